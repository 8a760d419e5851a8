"""The embedded demo account: moto's server on loopback, behind the gap-filling gateway, seeded.

``DemoAccount().start()`` gives an endpoint URL that answers boto3 (and the AWS CLI) like a real
account holding the demo fleet. moto keeps its state in process-global backends, so one process
holds one demo account at a time: ``start()`` resets moto's state first.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import urllib.request
from datetime import datetime, timezone

from lambdaops.demo.fillers import generate_state, install_fillers
from lambdaops.demo.fleet import ACCOUNT_ID, REGIONS, FunctionSpec, build_fleet
from lambdaops.demo.gateway import Gateway
from lambdaops.demo.lambda_config import LambdaConfigOverlay
from lambdaops.demo.lambda_config import install as install_lambda_config

DEFAULT_SEED = 7
DEFAULT_WINDOW_H = 6.0


def _quiet_logging() -> None:
    # Werkzeug prints a line per request and a traceback per 500: that would corrupt the TUI.
    for name in ("werkzeug", "moto", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _configure_moto() -> None:
    from moto.core.config import default_user_config

    # Must be set before any function is created: moto's Docker and no-Docker backends keep separate state.
    default_user_config["lambda"]["use_docker"] = False
    # moto lists its package directory (a listdir and ~150 stats) on every request to route it; the
    # answer never changes within a process.
    from moto import backends

    if not getattr(backends.list_of_moto_modules, "lambdaops_cached", False):
        modules = tuple(backends.list_of_moto_modules())

        def cached_modules() -> tuple[str, ...]:
            return modules

        cached_modules.lambdaops_cached = True
        backends.list_of_moto_modules = cached_modules
    # moto makes a new model loader for each service model it loads (moto.core.utils._load_service_model),
    # and each one lists botocore's and moto's data directories again (hundreds of stats), in every
    # request thread that races for the same model at start-up: one loader, whose caches then hold.
    from moto.core import utils as moto_utils

    if not getattr(moto_utils.create_loader, "lambdaops_shared", False):
        loader = moto_utils.create_loader()

        def shared_loader():
            return loader

        shared_loader.lambdaops_shared = True
        moto_utils.create_loader = shared_loader


CACHE_ENV = "LAMBDAOPS_DEMO_CACHE"


def cache_enabled(env=None) -> bool:
    """Whether demo accounts keep their seeded state between runs (demo_cache): unless CACHE_ENV says no."""
    env = os.environ if env is None else env
    return (env.get(CACHE_ENV) or "1").strip().lower() not in ("0", "false", "no", "off")


EARLY_QUIET_S = 1.0
# What answers before the traffic exists (``start(early=True)``): reads of resources only.
_EARLY_SERVICES = {
    "lambda": lambda op: op.startswith(("List", "Get")),
    "resourcegroupstaggingapi": lambda op: True,
    "sts": lambda op: True,
}


def _reads_queues(req) -> bool:
    """Whether an answer depends on the DLQs' contents, filled last: SQS, SNS, the streams, Lambda
    (Invoke sends failures there), and CloudWatch unless the request names AWS/Lambda metrics only
    (the queues' AWS/SQS metrics are published as they are filled). Logs and X-Ray never do."""
    if req.service in ("logs", "xray"):
        return False
    if req.service == "cloudwatch":
        body = req.body or b""
        return b"AWS/SQS" in body or b"AWS%2FSQS" in body or not (b"AWS/Lambda" in body or b"AWS%2FLambda" in body)
    return True


class DemoAccount:
    """A seeded fake AWS account reachable at :attr:`endpoint`."""

    account_id = ACCOUNT_ID

    def __init__(self, *, seed: int = DEFAULT_SEED, functions: int | None = None, host: str = "127.0.0.1",
                 port: int = 0, window_hours: float = DEFAULT_WINDOW_H, now: datetime | None = None,
                 latency_ms: float = 0.0, quotas: str | None = None, traffic: bool = True,
                 insights_memo: bool = True, cache: bool | None = None, save_cache_on_stop: bool = False,
                 hold_cache_writes: bool | None = None,
                 freeze_gc: bool = False) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the demo account binds to loopback only")
        self.seed = seed
        self.functions = functions
        self.fleet: list[FunctionSpec] = build_fleet(seed, functions)
        self.regions = tuple(r for r in REGIONS if any(f.region == r for f in self.fleet))
        self.host, self.port = host, port
        self.window_hours = window_hours
        self.started_at = now or datetime.now(timezone.utc).replace(microsecond=0)
        self.latency_ms = latency_ms
        self.quotas = quotas
        self.traffic = traffic
        # Logs Insights keeps each log group's derived columns across queries (insights_memo): a
        # long-lived account (demo serve, the TUI's child) answers repeated queries from them; a one-shot
        # command, which queries each group once, is better off without the bookkeeping.
        self.insights_memo = insights_memo
        # demo_cache: the seeded state kept between runs (None: LAMBDAOPS_DEMO_CACHE decides). Not for an
        # account pinned to a given ``now``, nor one without traffic. Its Insights columns are kept too,
        # so every run computes them with insights_memo.
        self.use_cache = (cache_enabled() if cache is None else cache) and now is None and traffic
        self.insights_memo = insights_memo or self.use_cache
        self.cache = None  # demo_cache.DemoCache, made with the traffic
        self.from_cache = False  # the traffic was loaded from it
        # A one-shot command's account writes what it computed when it stops (waiting for it); a
        # long-lived one writes in the background once its queries are idle, and stops at once.
        self.save_cache_on_stop = save_cache_on_stop
        # A freshly built account's records and log groups (~160 MB of pickles) are written at once,
        # or, held (a one-shot command's, the TUI's), once its queries are idle or it stops: written
        # meanwhile, they hold the GIL its first Insights answers are computed under.
        self.hold_cache_writes = save_cache_on_stop if hold_cache_writes is None else hold_cache_writes
        # A process that holds this one account for its life (demo serve) freezes what the start
        # allocated when the GC resumes (gc.freeze), so no collection walks it again; in a process that
        # starts several accounts (the tests) a frozen stopped account could never be collected.
        self.freeze_gc = freeze_gc
        self.overlay = LambdaConfigOverlay()
        self.seeded = None
        self.state = None  # traffic, metrics, logs, traces: filled by the traffic layer
        self.timings: dict[str, float] = {}
        self._server = None
        self._thread: threading.Thread | None = None
        self.gateway = None
        # Set once the traffic (metrics, logs, traces, DLQ messages) exists; see ``start(early=True)``.
        self.ready = threading.Event()
        # Set once the traffic, metrics, logs and traces exist, before the DLQs are filled (``ready``):
        # in early mode, requests that read no queue answer from then on (see _reads_queues).
        self.telemetry_ready = threading.Event()
        self.failure: BaseException | None = None
        # Early mode: the traffic is generated once a client asks for it, or once the early readers
        # have been quiet a moment. Generating it holds the GIL for seconds, and the inventory's
        # requests would otherwise crawl behind it.
        self._traffic_wanted = threading.Event()
        self._last_early_request = 0.0

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("demo account not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def window(self) -> tuple[datetime, datetime]:
        from datetime import timedelta

        end = self.started_at
        return end - timedelta(hours=self.window_hours), end

    def build_app(self, *, fillers: bool = True):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        gw = Gateway(DomainDispatcherApplication(create_backend_app), latency_ms=self.latency_ms)
        install_lambda_config(gw, self.overlay)
        if fillers:
            install_fillers(gw, self)
        self.gateway = gw
        return gw

    def start(self, *, early: bool = False, eager: bool = False) -> "DemoAccount":
        """Serve and seed. With ``early`` it returns as soon as the resources exist and builds the
        traffic in a thread: the control plane's reads (what an inventory needs) answer at once, and
        every other request waits for the traffic (``ready``). The TUI uses this to list the fleet
        while the telemetry is still being generated; it starts building once a client asks for
        telemetry or the inventory goes quiet, unless ``eager`` (a one-shot command: its inventory is
        paced by the control plane's rate limits, time the build runs in)."""
        # Python's cyclic GC is paused until the traffic exists (_finish): starting allocates hundreds of
        # thousands of container objects (moto's and pandas' imports, moto's models, the account's state)
        # and the collections they set off, three of them full, took a quarter of a warm start's CPU.
        # Reference counting still frees everything that is not in a cycle meanwhile.
        self._gc_paused = gc.isenabled()
        gc.disable()
        try:
            return self._start(early, eager)
        except BaseException:
            self._resume_gc()
            raise

    def _resume_gc(self) -> None:
        if getattr(self, "_gc_paused", False):
            self._gc_paused = False
            if self.freeze_gc:
                gc.freeze()  # else the first collection walks all the start allocated
            gc.enable()

    def _start(self, early: bool, eager: bool) -> "DemoAccount":
        from werkzeug.serving import make_server

        from moto.moto_server.threaded_moto_server import MotoRequestHandler

        _quiet_logging()
        _configure_moto()
        t0 = time.perf_counter()
        # Early: the fillers (metrics, logs, traces, Invoke...) import pandas and friends, half a second
        # the listing need not wait for; the gate holds their requests until they are installed.
        app = self.build_app(fillers=not early)
        class KeepAliveHandler(MotoRequestHandler):
            # HTTP/1.1 keeps a client's connection between requests, as AWS's HTTPS endpoints do
            # ("Connection: keep-alive" by default in HTTP/1.1, RFC 9112 section 9.3); werkzeug's
            # default HTTP/1.0 closed every one, so boto3's pool per client reconnected for each call.
            protocol_version = "HTTP/1.1"

        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-account", daemon=True)
        self._thread.start()
        self._reset_moto()
        t1 = time.perf_counter()
        from lambdaops.demo.seed import seed_account

        self.seeded = seed_account(self.endpoint, self.fleet, self.overlay)
        t2 = time.perf_counter()
        self.timings.update(server_s=t1 - t0, resources_s=t2 - t1)
        if early and self.traffic:
            self.gateway.before.insert(0, self._wait_for_traffic)
            self._last_early_request = time.monotonic()
            if eager:
                self._traffic_wanted.set()
            threading.Thread(target=self._finish, args=(t0, True), name="demo-traffic", daemon=True).start()
            return self
        self._finish(t0)
        if self.failure is not None:
            raise self.failure
        return self

    def _finish(self, t0: float, install: bool = False) -> None:
        try:
            if install:
                while not self._traffic_wanted.wait(0.05):
                    if time.monotonic() - self._last_early_request > EARLY_QUIET_S:
                        break
                install_fillers(self.gateway, self)
            if self.traffic:
                self.state = generate_state(self)
            self.timings["total_s"] = time.perf_counter() - t0
            enforcer = getattr(self, "quota_enforcer", None)
            if enforcer is not None:
                enforcer.enabled = True
        except BaseException as exc:  # surfaced to every waiting request (early) or re-raised by start()
            self.failure = exc
        finally:
            self._resume_gc()
            self.telemetry_ready.set()
            self.ready.set()

    def _wait_for_traffic(self, req) -> None:
        if self.ready.is_set() and self.failure is None:
            return
        if _EARLY_SERVICES.get(req.service, lambda op: False)(req.operation or ""):
            self._last_early_request = time.monotonic()
            return
        from lambdaops.demo.seed import SEED_AGENT

        if SEED_AGENT in req.headers.get("user-agent", ""):
            return
        self._traffic_wanted.set()
        if not _reads_queues(req):
            self.telemetry_ready.wait()
            if self.failure is None:
                return
        self.ready.wait()
        if self.failure is not None:
            from lambdaops.demo.api_errors import DemoApiError

            raise DemoApiError("ServiceUnavailable", f"the demo account failed to seed: {self.failure}", 503)

    def _reset_moto(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def stop(self, save: bool | None = None) -> None:
        """Stop serving; with ``save`` (default: ``save_cache_on_stop``) first write to the demo cache
        what this run computed and did not write yet (waiting for it)."""
        save = self.save_cache_on_stop if save is None else save
        if self.cache is not None:
            self.cache.cancel()
            if save:
                self.cache.release()  # the records and groups, held while the command ran
                try:  # the Insights columns this run computed, for the next one
                    self.cache.save_columns(getattr(self, "logs_service", None))
                except Exception:  # a cache that cannot be written is rebuilt next time, never a failed stop
                    logging.getLogger(__name__).debug("demo cache not written", exc_info=True)
        if self._server is not None:
            from lambdaops.demo.seed import forget_clients

            forget_clients(self.endpoint)
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "DemoAccount":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env_lines(self, region: str | None = None) -> list[str]:
        """Shell lines that point the AWS CLI, boto3 and lambdaops at this account."""
        return [
            f"export AWS_ENDPOINT_URL={self.endpoint}",
            "export AWS_ACCESS_KEY_ID=demo",
            "export AWS_SECRET_ACCESS_KEY=demo",
            f"export AWS_REGION={region or self.regions[0]}",
            f"export AWS_DEFAULT_REGION={region or self.regions[0]}",
        ]
