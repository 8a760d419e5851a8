"""StartLiveTail for the demo account: refused, as AWS refuses it to a principal without the
``logs:StartLiveTail`` permission.

StartLiveTail answers with an event stream (``application/vnd.amazon.eventstream``: binary frames
with CRCs, a ``sessionUpdate`` each second; "StartLiveTail", CloudWatch Logs API Reference), which
moto does not serve and this WSGI gateway cannot stream. Rather than pretend, the demo behaves like an
account where the caller may not start sessions: ``AccessDeniedException`` (HTTP 400, the code the
Logs API Reference lists for StartLiveTail). The product then follows the log by polling
FilterLogEvents, which the demo serves over the same events, new invocations included.
"""

from __future__ import annotations

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, Gateway


def install(gw: Gateway, account) -> None:
    @gw.handle("logs", "StartLiveTail")
    def _start_live_tail(req: DemoRequest):
        from lambdaops.demo.fleet import ACCOUNT_ID

        raise DemoApiError("AccessDeniedException",
                           f"User: arn:aws:iam::{ACCOUNT_ID}:user/demo is not authorized to perform: "
                           "logs:StartLiveTail (the demo account serves FilterLogEvents only)")
