"""A WSGI layer in front of moto's server that answers the requests moto cannot.

Every request is identified (service from the SigV4 credential scope, operation from ``X-Amz-Target``
or, for REST services, from botocore's own URI templates). A *handler* registered for the operation
answers it fully; a *post-processor* lets moto answer and then amends the JSON (e.g. adds the
``DeadLetterConfig`` moto drops). Everything else passes through to moto untouched. Errors are
shaped per protocol the way botocore parses AWS's, so clients see ``ClientError`` codes, not 500s.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

import botocore.session

from lambdaops.demo.api_errors import DemoApiError

_SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# signing name -> botocore service name, for services whose names differ
_SIGNING_TO_SERVICE = {"monitoring": "cloudwatch", "tagging": "resourcegroupstaggingapi", "dynamodb": "dynamodb"}
_JSON_CONTENT = {"logs": "application/x-amz-json-1.1", "kinesis": "application/x-amz-json-1.1",
                 "resourcegroupstaggingapi": "application/x-amz-json-1.1"}


@dataclass
class DemoRequest:
    service: str
    region: str
    operation: str | None
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise DemoApiError("SerializationException", "request body is not valid JSON") from None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class DemoResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    @classmethod
    def json(cls, service: str, payload: Any, status: int = 200, headers: dict | None = None) -> "DemoResponse":
        content = _JSON_CONTENT.get(service, "application/x-amz-json-1.0")
        if service in ("lambda", "xray"):
            content = "application/json"
        hdrs = {"Content-Type": content}
        hdrs.update(headers or {})
        return cls(status, json.dumps(payload, default=_json_default).encode(), hdrs)

    def __call__(self, environ, start_response):
        headers = dict(self.headers)
        headers["Content-Length"] = str(len(self.body))
        headers.setdefault("x-amzn-RequestId", _request_id())
        start_response(f"{self.status} {_REASONS.get(self.status, 'Status')}", list(headers.items()))
        return [self.body]


_REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}
_rid_lock = threading.Lock()
_rid_counter = [0]


def _request_id() -> str:
    with _rid_lock:
        _rid_counter[0] += 1
        n = _rid_counter[0]
    return f"d3m0{n:08x}-0000-4000-8000-{int(time.time() * 1000) % 10**12:012d}"


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def error_response(service: str, err: DemoApiError) -> DemoResponse:
    """AWS-shaped error for the service's protocol."""
    if service in ("lambda", "xray"):  # rest-json: the type travels in a header
        body = {"Type": "User", "message": err.message, "Message": err.message}
        return DemoResponse(err.status, json.dumps(body).encode(),
                            {"Content-Type": "application/json", "x-amzn-ErrorType": err.code})
    body = {"__type": err.code, "message": err.message}
    headers = {"Content-Type": _JSON_CONTENT.get(service, "application/x-amz-json-1.0")}
    if service in ("sqs", "cloudwatch"):  # awsQueryCompatible: botocore maps codes from this header
        headers["x-amzn-query-error"] = f"{err.code};{'Sender' if err.status < 500 else 'Receiver'}"
    return DemoResponse(err.status, json.dumps(body).encode(), headers)


class RestRouter:
    """Operation names for REST services from botocore's URI templates (``/functions/{FunctionName}``)."""

    def __init__(self, services: tuple[str, ...]) -> None:
        session = botocore.session.get_session()
        self._routes: dict[str, list[tuple[str, re.Pattern, str, dict[str, str]]]] = {}
        for svc in services:
            model = session.get_service_model(svc)
            routes = []
            for op_name in model.operation_names:
                http = model.operation_model(op_name).http
                uri, _, literal_query = http["requestUri"].partition("?")
                # Some operations differ only by a literal query (".../provisioned-concurrency?List=ALL").
                required = dict(kv.split("=", 1) for kv in literal_query.split("&") if "=" in kv)
                pattern = re.sub(r"\{(\w+)\+?\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", uri.rstrip("/"))
                routes.append((http["method"], re.compile(f"^{pattern}/?$"), op_name, required))
            # Literal paths before templated ones (/functions/ must not match /functions/{name}), and
            # routes that need a query parameter before those that do not.
            routes.sort(key=lambda r: (r[1].pattern.count("(?P"), -len(r[3])))
            self._routes[svc] = routes

    def match(self, service: str, method: str, path: str,
              query: dict[str, list[str]] | None = None) -> tuple[str | None, dict[str, str]]:
        query = query or {}
        for m, rx, op, required in self._routes.get(service, ()):
            if m != method or any(query.get(k, [None])[0] != v for k, v in required.items()):
                continue
            hit = rx.match(path)
            if hit:
                return op, {k: unquote(v) for k, v in hit.groupdict().items()}
        return None, {}


Handler = Callable[[DemoRequest], "DemoResponse | None"]
PostProcessor = Callable[[DemoRequest, int, dict], "dict | None"]


class Gateway:
    """WSGI middleware: handlers and post-processors per (service, operation); moto for the rest."""

    def __init__(self, app: Callable, *, latency_ms: float = 0.0) -> None:
        self.app = app
        self.latency_ms = latency_ms
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.post: dict[tuple[str, str], PostProcessor] = {}
        self.before: list[Callable[[DemoRequest], None]] = []  # e.g. quota checks; may raise DemoApiError
        self.router = RestRouter(("lambda", "xray"))

    def handle(self, service: str, operation: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.handlers[(service, operation)] = fn
            return fn
        return deco

    def postprocess(self, service: str, operation: str) -> Callable[[PostProcessor], PostProcessor]:
        def deco(fn: PostProcessor) -> PostProcessor:
            self.post[(service, operation)] = fn
            return fn
        return deco

    def identify(self, environ) -> DemoRequest:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        scope = _SCOPE_RE.search(headers.get("authorization", ""))
        region, signing = (scope.group(1), scope.group(2)) if scope else ("us-east-1", "")
        service = _SIGNING_TO_SERVICE.get(signing, signing)
        if service == "dynamodb" and "DynamoDBStreams" in headers.get("x-amz-target", ""):
            service = "dynamodbstreams"
        path = unquote(environ.get("PATH_INFO", "")) if service not in ("lambda", "xray") else environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation, params = None, {}
        target = headers.get("x-amz-target")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif service in ("lambda", "xray"):
            operation, params = self.router.match(service, method, path, query)
        return DemoRequest(service, region, operation, method, path, query, headers, body, params)

    def __call__(self, environ, start_response):
        req = self.identify(environ)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)
        key = (req.service, req.operation or "")
        try:
            for check in self.before:
                check(req)
            handler = self.handlers.get(key)
            if handler is not None:
                resp = handler(req)
                if resp is not None:
                    return resp(environ, start_response)
            post = self.post.get(key)
            if post is None:
                return self.app(environ, start_response)
            return self._post_process(req, post, environ, start_response)
        except DemoApiError as err:
            return error_response(req.service, err)(environ, start_response)

    def _post_process(self, req: DemoRequest, post: PostProcessor, environ, start_response):
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status_code = int(captured["status"].split()[0])
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if status_code < 300 and body:
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                amended = post(req, status_code, doc)
                if amended is not None:
                    body = json.dumps(amended, default=_json_default).encode()
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]
