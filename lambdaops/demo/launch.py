"""The one door into the demo account from the product: ``lambdaops demo serve``, the CLI's ``--demo``
and the TUI's ``--demo`` go through here and nowhere else (tests/unit/test_layers.py holds it).

Importing this module is cheap: moto and the seeding code load only when an account is built in
this process (:func:`open_account`). The product reaches the account through its endpoint URL and
these static dummy credentials, exactly as it reaches AWS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

# Any non-empty pair: moto accepts every key, and no real credential is ever read in demo mode.
DEMO_CREDENTIALS = ("demo", "demo")
DEMO_START_TIMEOUT_S = 120


def open_account(**kw):
    """A demo account in this process, not yet started (``DemoAccount`` keyword arguments)."""
    from lambdaops.demo.server import DemoAccount

    return DemoAccount(**kw)


def write_truth(account, path) -> None:
    """The account's ground truth as JSON (tests compare the product's figures with it)."""
    from lambdaops.demo.truth import write_truth as write

    write(account, path)


class DemoProcess:
    """``lambdaops demo serve --port 0`` as a child process, for the TUI and the ``--demo`` commands:
    the account's start-up, its request handling and its Logs Insights engine are CPU-bound Python
    and, in the client's process, would hold the GIL its keys, requests and analysis wait on (one
    process cannot use the machine's second core). Released (:meth:`release`) when the TUI exits or a
    command ends: the child then writes what is new to the demo cache and exits by itself; killed
    (:meth:`stop`) when it failed to start.

    ``one_shot`` (a command's account): the child builds the traffic at once and, once released,
    writes what the command computed to the demo cache before it exits, after the command's answer."""

    def __init__(self, one_shot: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        # stdin is a pipe this process never writes to: the child stops when it closes, so the
        # account cannot outlive a TUI or a command that was killed or crashed.
        mode = ["--one-shot"] if one_shot else ["--early", "--until-stdin-closes"]
        self.proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", "0",
                                      *mode],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.endpoint: str | None = None
        self.regions: list[str] = []

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

    def release(self) -> None:
        """Let the child go without waiting for it: it stops once its stdin closes, having first
        written to the demo cache what it computed (which must not hold up the TUI or the command
        that is ending)."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def stop(self) -> None:
        # Killed, not asked: the account lives only in the child's memory (nothing to flush), and
        # its orderly shutdown would keep the terminal waiting after ``q``.
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
