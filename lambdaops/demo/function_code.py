"""Function code packages in the demo: the download link GetFunction gives, and architecture changes.

On AWS a function's architecture changes only through UpdateFunctionCode (with the code package), and
GetFunction's ``Code.Location`` is a presigned link to download that package. moto drops
``Architectures`` on UpdateFunctionCode and returns a Location on amazonaws.com that does not exist,
so a client following it would leave the demo for the internet. Here the Location points back at the
demo endpoint (``/_demo/lambda-code/<region>/<name>/<version>``, answered from moto's stored bytes)
and UpdateFunctionCode applies the architecture it was given.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from lambdaops.demo.fleet import ACCOUNT_ID
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway
from lambdaops.demo.lambda_config import function_name

CODE_PATH = "/_demo/lambda-code/"


def _backend(region: str):
    from moto.awslambda.utils import get_backend

    return get_backend(ACCOUNT_ID, region)


def install(gw: Gateway, account) -> None:
    def apply_architecture(req: DemoRequest, status: int, doc: dict) -> dict | None:
        arch = (req.json().get("Architectures") or [None])[0]
        if arch not in ("x86_64", "arm64"):
            return None
        name, _ = function_name(req.path_params.get("FunctionName", ""))
        backend = _backend(req.region)
        backend.get_function(name).architectures = [arch]
        if doc.get("Version") not in (None, "$LATEST"):  # Publish=True: the new version too
            backend.get_function(name, str(doc["Version"])).architectures = [arch]
        doc["Architectures"] = [arch]
        return doc

    gw.postprocess("lambda", "UpdateFunctionCode")(apply_architecture)

    # GetFunction already has a post-processor (lambda_config's overlay): run it, then fix the link.
    previous = gw.post.get(("lambda", "GetFunction"))

    def local_code_link(req: DemoRequest, status: int, doc: dict) -> dict | None:
        if previous is not None:
            doc = previous(req, status, doc) or doc
        code = doc.get("Code") or {}
        cfg = doc.get("Configuration") or {}
        host = req.headers.get("host")
        if host and code.get("Location", "").startswith("https://awslambda-") and cfg.get("FunctionName"):
            version = cfg.get("Version") or "$LATEST"
            code["Location"] = (f"http://{host}{CODE_PATH}{req.region}/{quote(cfg['FunctionName'])}/"
                                f"{quote(version, safe='')}")
        return doc

    gw.post[("lambda", "GetFunction")] = local_code_link

    # The download is an unsigned GET, which the gateway files under service "" (no SigV4 scope).
    previous_unsigned = gw.handlers.get(("", ""))

    def serve_code(req: DemoRequest) -> DemoResponse | None:
        if req.method != "GET" or not req.path.startswith(CODE_PATH):
            return previous_unsigned(req) if previous_unsigned else None
        parts = req.path[len(CODE_PATH):].split("/")
        if len(parts) != 3:
            return DemoResponse(404, b"not found", {"Content-Type": "text/plain"})
        region, name, version = (unquote(p) for p in parts)
        try:
            fn = _backend(region).get_function(name, None if version == "$LATEST" else version)
        except Exception:  # moto raises its own not-found types; a download link just 404s
            return DemoResponse(404, b"not found", {"Content-Type": "text/plain"})
        return DemoResponse(200, bytes(fn.code_bytes or b""), {"Content-Type": "application/zip"})

    gw.handlers[("", "")] = serve_code
