"""The log group class (``logGroupClass``) that moto accepts on CreateLogGroup but drops.

CloudWatch Logs has two classes for log groups: STANDARD (the default) and INFREQUENT_ACCESS, chosen
at creation and never changed afterwards; DescribeLogGroups returns it on every group and can filter on
it ("Log classes", Amazon CloudWatch Logs User Guide; CreateLogGroup / DescribeLogGroups in the CloudWatch
Logs API Reference). Field discovery in Logs Insights is supported only for the Standard class, which is
why the demo's Insights engine must know a group's class: read it with :func:`log_group_class`.
"""

from __future__ import annotations

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, Gateway

STANDARD = "STANDARD"
INFREQUENT_ACCESS = "INFREQUENT_ACCESS"
# DELIVERY exists too (groups for vended-log delivery); Lambda cannot log to it.
CLASSES = (STANDARD, INFREQUENT_ACCESS, "DELIVERY")
_ATTR = "lambdaops_log_group_class"


def set_log_group_class(group, cls: str | None) -> None:
    """Remember ``cls`` on a moto LogGroup object (the seeding creates groups in the backend directly)."""
    setattr(group, _ATTR, _checked(cls))


def _checked(cls: str | None) -> str:
    cls = cls or STANDARD
    if cls not in CLASSES:
        raise DemoApiError("InvalidParameterException",
                           f"1 validation error detected: Value '{cls}' at 'logGroupClass' failed to satisfy "
                           f"constraint: Member must satisfy enum value set: [{', '.join(CLASSES)}]")
    return cls


# Classes asked for by clients' CreateLogGroup requests, (region, name) -> class: moto creates the group
# and answers an empty body, so the class is noted before moto sees the request.
_REQUESTED: dict[tuple[str, str], str] = {}


def log_group_class(region: str, group: str) -> str | None:
    """The class of a log group of the demo account, or None when the group does not exist."""
    from moto.logs.models import logs_backends

    from lambdaops.demo.fleet import ACCOUNT_ID

    obj = logs_backends[ACCOUNT_ID][region].groups.get(group)
    if obj is None:
        return None
    return getattr(obj, _ATTR, None) or _REQUESTED.get((region, group), STANDARD)


def install(gw: Gateway, account) -> None:
    @gw.handle("logs", "CreateLogGroup")
    def _create(req: DemoRequest):
        from moto.logs.models import logs_backends

        from lambdaops.demo.fleet import ACCOUNT_ID

        body = req.json()
        cls = _checked(body.get("logGroupClass"))
        name = body.get("logGroupName") or ""
        if name not in logs_backends[ACCOUNT_ID][req.region].groups:  # else moto answers AlreadyExists
            _REQUESTED[(req.region, name)] = cls
        return None

    @gw.postprocess("logs", "DescribeLogGroups")
    def _describe(req: DemoRequest, status: int, doc: dict):
        wanted = req.json().get("logGroupClass")
        groups = []
        for g in doc.get("logGroups", []):
            g["logGroupClass"] = log_group_class(req.region, g.get("logGroupName", "")) or STANDARD
            if wanted is None or g["logGroupClass"] == wanted:
                groups.append(g)
        doc["logGroups"] = groups
        return doc
