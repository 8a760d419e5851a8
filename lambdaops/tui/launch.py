"""Entry from the CLI. Against real AWS, credentials and regions are resolved before the screen is
taken (their errors stay one line on stderr). With ``--demo`` the demo account runs in a child
process (``lambdaops demo serve``), reached like any endpoint: its start-up and its Logs Insights
engine are CPU-bound Python, and in this process they would hold the GIL for seconds at a time
(measured: keys took up to 2.1 s to answer while the in-process account ran a fleet query). The
frame is on screen at once; with ``--early`` the child answers the inventory as soon as the functions
exist (rows 2.2-2.5 s after start here, instead of 6 s), and the telemetry follows when generated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

DEMO_START_TIMEOUT_S = 120


class DemoProcess:
    """``lambdaops demo serve --port 0`` as a child process, stopped when the TUI exits."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        # stdin is a pipe this process never writes to: the child stops when it closes, so the
        # account cannot outlive a TUI that was killed or crashed.
        self.proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", "0",
                                      "--early", "--until-stdin-closes"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.endpoint: str | None = None
        self.regions: list[str] = []
        self._ready = threading.Event()

    def wait(self) -> str:
        """Block (in a worker) until the account listens; its endpoint URL."""
        if self.endpoint is None:
            timer = threading.Timer(DEMO_START_TIMEOUT_S, self.stop)
            timer.start()
            try:
                for line in self.proc.stdout:
                    if "listening on" in line:
                        self.endpoint = line.rsplit(" ", 1)[-1].strip()
                    elif line.startswith("regions:"):
                        self.regions = [r.strip() for r in line.split(";")[0].split(":", 1)[1].split(",")]
                        break
            finally:
                timer.cancel()
        if self.endpoint is None:
            from lambdaops.errors import ConfigError

            raise ConfigError("the demo account did not start (try: lambdaops demo serve)")
        return self.endpoint

    def stop(self) -> None:
        # Killed, not asked: the account lives only in the child's memory (nothing to flush), and
        # its orderly shutdown would keep the terminal waiting a second or more after ``q``.
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def build_backend(state, demo: DemoProcess | None = None):
    from lambdaops.tui.backend import Backend, TuiSettings

    settings = TuiSettings.from_state(state)
    if demo is not None:
        def connect():
            from lambdaops.aws.context import AwsContext, StaticCredentials
            from lambdaops.cli.state import DEMO_CREDENTIALS

            endpoint = demo.wait()
            return AwsContext(regions=state.regions or demo.regions, endpoint_url=endpoint,
                              credentials=StaticCredentials(*DEMO_CREDENTIALS), debug=state.debug, max_attempts=2)

        return Backend(connect, settings=settings, cache_dir=None, label="demo")
    ctx = state.aws()

    def for_profile(profile: str, regions: list[str]):
        from lambdaops.aws.context import AwsContext

        new = AwsContext(profile=profile, regions=regions, endpoint_url=state.endpoint_url, debug=state.debug)
        new.check_credentials()
        new.require_regions()
        return new

    def profiles() -> list[str]:
        from lambdaops.aws.context import available_profiles

        return available_profiles()

    return Backend(lambda: ctx, settings=settings, cache_dir=state.cache_dir(), label=state.profile or "",
                   for_profile=for_profile, profiles=profiles)


def run_tui(state) -> None:
    demo = DemoProcess() if state.demo else None
    try:
        backend = build_backend(state, demo)
        from lambdaops.tui.app import LambdaopsApp

        app = LambdaopsApp(backend)
        app.run()
    finally:
        if demo is not None:
            demo.stop()
    from lambdaops.tui.quick_exit import leave_now

    leave_now(app.return_code or 0)  # without joining the threads of calls in flight: q in < 0.5 s
