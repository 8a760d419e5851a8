"""Entry from the CLI: resolve AWS first (so config errors are one line, not a crashed app), then run."""

from __future__ import annotations


def run_tui(state) -> None:
    aws = state.aws()
    from lambdaops.tui.app import LambdaopsApp

    app = LambdaopsApp(aws, state=state)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
