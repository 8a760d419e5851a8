"""Entry from the CLI. Against real AWS, credentials and regions are resolved before the screen is
taken (their errors stay one line on stderr). With ``--demo`` the demo account runs in a child
process (:class:`lambdaops.demo.launch.DemoProcess`), reached like any endpoint: its start-up and its
Logs Insights engine are CPU-bound Python, and in this process they would hold the GIL while keys
wait. The frame is on screen at once; with ``--early`` the child answers the inventory as soon as the
functions exist, and the telemetry follows when generated.

``state`` is the CLI's resolved invocation (duck-typed: this package never imports ``cli``, which
imports it).
"""

from __future__ import annotations

from lambdaops.demo.launch import DEMO_CREDENTIALS, DemoProcess


def build_session(state, demo: DemoProcess | None = None):
    from lambdaops.tui.session import Session, TuiSettings

    settings = TuiSettings.from_state(state)
    if demo is not None:
        def connect():
            from lambdaops.aws.context import AwsContext, StaticCredentials
            endpoint = demo.wait()
            return AwsContext(regions=state.regions or demo.regions, endpoint_url=endpoint,
                              credentials=StaticCredentials(*DEMO_CREDENTIALS), debug=state.debug, max_attempts=2)

        # No store (as every --demo command): a binned first collection answers later in the demo's
        # Insights engine (every figure at 3.9 s against 2.6 s, measured), and the account is new on
        # every start. On an account the store is on and the header shows what a refresh scanned.
        return Session(connect, settings=settings, cache_dir=None, label="demo")
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

    return Session(lambda: ctx, settings=settings, cache_dir=state.cache_dir(), label=state.profile or "",
                   for_profile=for_profile, profiles=profiles)


def run_tui(state, demo: DemoProcess | None = None) -> None:
    """``demo``: the demo's child process if the entry point started it already (with ``--demo``)."""
    if state.demo and demo is None:
        demo = DemoProcess()
    try:
        session = build_session(state, demo)
        from lambdaops.tui.app import LambdaopsApp

        app = LambdaopsApp(session)
        app.run()
    finally:
        if demo is not None:
            # Let go, not killed: the child writes what the session computed to the demo cache and
            # exits once its stdin closes; this process does not wait for it (q in < 0.5 s).
            demo.release()
    from lambdaops.tui.quick_exit import leave_now

    leave_now(app.return_code or 0)  # without joining the threads of calls in flight: q in < 0.5 s
