"""Lambda configuration moto accepts but drops: DeadLetterConfig, LoggingConfig, SnapStart.

The settings are captured from CreateFunction / UpdateFunctionConfiguration requests and merged back
into every response that carries a function configuration, so clients read them as from AWS. Also
answers GetAccountSettings and the provisioned-concurrency reads moto leaves unimplemented.
"""

from __future__ import annotations

import threading
from typing import Any

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway


LIST_FUNCTIONS_PAGE = 50


def function_name(ref: str) -> tuple[str, str | None]:
    """'fn', 'fn:alias', or a full ARN -> (name, qualifier)."""
    if ref.startswith("arn:"):
        parts = ref.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    if ":" in ref:
        name, qualifier = ref.split(":", 1)
        return name, qualifier
    return ref, None


class LambdaConfigOverlay:
    """Per (region, function) settings moto does not keep."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extra: dict[tuple[str, str], dict[str, Any]] = {}
        self.provisioned: dict[tuple[str, str, str], int] = {}  # (region, fn, qualifier) -> requested

    def capture(self, region: str, name: str, body: dict) -> None:
        with self._lock:
            extra = self._extra.setdefault((region, name), {})
            if "DeadLetterConfig" in body:
                target = (body["DeadLetterConfig"] or {}).get("TargetArn")
                if target:
                    extra["DeadLetterConfig"] = {"TargetArn": target}
                else:
                    extra.pop("DeadLetterConfig", None)
            if "LoggingConfig" in body:
                cfg = dict(body["LoggingConfig"] or {})
                fmt = cfg.get("LogFormat", extra.get("LoggingConfig", {}).get("LogFormat", "Text"))
                if fmt not in ("Text", "JSON"):
                    raise DemoApiError("InvalidParameterValueException", f"LogFormat {fmt!r} must be Text or JSON")
                merged = {"LogFormat": fmt, "LogGroup": cfg.get("LogGroup") or f"/aws/lambda/{name}"}
                if fmt == "JSON":
                    merged["ApplicationLogLevel"] = cfg.get("ApplicationLogLevel", "INFO")
                    merged["SystemLogLevel"] = cfg.get("SystemLogLevel", "INFO")
                extra["LoggingConfig"] = merged
            if "SnapStart" in body:
                apply_on = (body["SnapStart"] or {}).get("ApplyOn", "None")
                extra["SnapStart"] = {"ApplyOn": apply_on,
                                      "OptimizationStatus": "On" if apply_on == "PublishedVersions" else "Off"}

    def forget(self, region: str, name: str) -> None:
        with self._lock:
            self._extra.pop((region, name), None)

    def get(self, region: str, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._extra.get((region, name), {}))

    def amend(self, region: str, cfg: dict) -> dict:
        name = cfg.get("FunctionName")
        if not name:
            return cfg
        extra = self.get(region, name)
        cfg.setdefault("LoggingConfig", {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"})
        cfg.update(extra)
        return cfg


def _reservation(region: str, cfg: dict) -> int | None:
    from moto.awslambda.utils import get_backend  # the backend the server chose (as seed.py)

    from lambdaops.demo.fleet import ACCOUNT_ID

    try:
        reserved = get_backend(ACCOUNT_ID, region).get_function(cfg.get("FunctionName", "")).reserved_concurrency
    except Exception:  # moto raises its own not-found types; nothing to add then
        return None
    return None if reserved is None else int(reserved)


def install(gw: Gateway, overlay: LambdaConfigOverlay) -> None:
    def on_write(req: DemoRequest) -> None:
        body = req.json()
        name = body.get("FunctionName") or req.path_params.get("FunctionName", "")
        overlay.capture(req.region, function_name(name)[0], body)
        return None  # let moto create/update, then amend its answer below

    def amend_one(req: DemoRequest, status: int, doc: dict) -> dict:
        if "Configuration" in doc:  # GetFunction
            overlay.amend(req.region, doc["Configuration"])
            if status == 200 and "Concurrency" not in doc and _reservation(req.region, doc["Configuration"]) == 0:
                # moto leaves out a reservation of 0 (falsy); AWS returns it: the function is throttled
                # entirely ("GetFunction", AWS Lambda API Reference: Concurrency; "Configuring reserved
                # concurrency", Lambda developer guide: reserving 0 stops every invocation).
                doc["Concurrency"] = {"ReservedConcurrentExecutions": 0}
            return doc
        return overlay.amend(req.region, doc)

    def amend_list(req: DemoRequest, status: int, doc: dict) -> dict:
        if req.operation == "ListFunctions" and status == 200:
            # AWS pages ListFunctions: at most 50 functions a response whatever MaxItems asks, the rest
            # behind NextMarker ("ListFunctions", AWS Lambda API Reference: MaxItems); moto returns all.
            fns = doc.get("Functions", [])
            start = int(req.param("Marker") or 0) if (req.param("Marker") or "0").isdigit() else 0
            size = max(1, min(int(req.param("MaxItems") or LIST_FUNCTIONS_PAGE), LIST_FUNCTIONS_PAGE))
            doc["Functions"] = fns[start:start + size]
            if start + size < len(fns):
                doc["NextMarker"] = str(start + size)
        for cfg in doc.get("Functions", []) + doc.get("Versions", []):
            overlay.amend(req.region, cfg)
        return doc

    def on_delete(req: DemoRequest) -> None:
        name, qualifier = function_name(req.path_params.get("FunctionName", ""))
        if qualifier is None and not req.param("Qualifier"):
            overlay.forget(req.region, name)
        return None

    for op in ("CreateFunction", "UpdateFunctionConfiguration"):
        gw.handle("lambda", op)(on_write)
        gw.postprocess("lambda", op)(amend_one)
    for op in ("GetFunction", "GetFunctionConfiguration", "PublishVersion"):
        gw.postprocess("lambda", op)(amend_one)
    for op in ("ListFunctions", "ListVersionsByFunction"):
        gw.postprocess("lambda", op)(amend_list)
    gw.handle("lambda", "DeleteFunction")(on_delete)

    @gw.handle("lambda", "GetAccountSettings")
    def account_settings(req: DemoRequest) -> DemoResponse:
        from moto.awslambda.utils import get_backend  # the backend the server chose (as seed.py)

        from lambdaops.demo.fleet import ACCOUNT_ID

        # Concurrency is a per-region quota (1,000 by default) and the unreserved pool is what the
        # region's reservations leave ("Lambda function scaling", "Configuring reserved concurrency",
        # Lambda developer guide): computed from this region's functions, not one figure for all.
        reserved = sum(int(f.reserved_concurrency or 0)
                       for f in get_backend(ACCOUNT_ID, req.region).list_functions())
        return DemoResponse.json("lambda", {
            "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
                             "UnreservedConcurrentExecutions": 1000 - reserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
        })

    @gw.handle("lambda", "ListProvisionedConcurrencyConfigs")
    def list_pc(req: DemoRequest) -> DemoResponse:
        name, _ = function_name(req.path_params.get("FunctionName", ""))
        items = [{"FunctionArn": f"arn:aws:lambda:{req.region}:123456789012:function:{fn}:{q}",
                  "RequestedProvisionedConcurrentExecutions": n, "AvailableProvisionedConcurrentExecutions": n,
                  "AllocatedProvisionedConcurrentExecutions": n, "Status": "READY",
                  "LastModified": "2026-01-01T00:00:00.000+0000"}
                 for (r, fn, q), n in sorted(overlay.provisioned.items()) if r == req.region and fn == name]
        return DemoResponse.json("lambda", {"ProvisionedConcurrencyConfigs": items})

    @gw.handle("lambda", "GetProvisionedConcurrencyConfig")
    def get_pc(req: DemoRequest) -> DemoResponse:
        name, _ = function_name(req.path_params.get("FunctionName", ""))
        qualifier = req.param("Qualifier") or ""
        n = overlay.provisioned.get((req.region, name, qualifier))
        if n is None:
            raise DemoApiError("ProvisionedConcurrencyConfigNotFoundException",
                               f"No Provisioned Concurrency Config found for this function: {name}:{qualifier}", 404)
        return DemoResponse.json("lambda", {"RequestedProvisionedConcurrentExecutions": n,
                                            "AvailableProvisionedConcurrentExecutions": n,
                                            "AllocatedProvisionedConcurrentExecutions": n, "Status": "READY",
                                            "LastModified": "2026-01-01T00:00:00.000+0000"})
