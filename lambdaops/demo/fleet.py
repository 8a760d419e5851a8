"""The demo fleet: what a real team's account looks like, as data.

Everything is derived from the seed, so two accounts seeded alike are identical. The named functions
cover every case lambdaops must handle (runtimes, architectures, SnapStart, both log formats, every
trigger and DLQ shape, a lagging and a healthy stream consumer, throttling, OOM risk, waste); the
``functions=N`` knob adds lighter generated functions for benchmarks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ACCOUNT_ID = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")


@dataclass(frozen=True)
class SourceSpec:
    """An event source mapping. ``kind``: sqs | sqs-fifo | kinesis | dynamodb."""

    kind: str
    name: str  # queue, stream or table name
    dlq: str | None = None  # SQS source queue's redrive target
    on_failure: str | None = None  # stream mapping's on-failure SQS queue
    batch_size: int = 10
    max_receive_count: int = 3


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    region: str
    runtime: str
    architecture: str = "x86_64"
    memory_mb: int = 256
    timeout_s: int = 30
    log_format: str = "Text"  # Text | JSON
    log_group: str | None = None  # custom LoggingConfig.LogGroup
    traffic: str = "api"  # api | diurnal | cron | stream | queue | async | none (never invoked)
    rate_per_min: float = 60.0  # mean invocations per minute (cron: ignored)
    reserved_concurrency: int | None = None
    snapstart: bool = False
    error_rate: float = 0.002
    # Memory model: CPU milliseconds at one full vCPU (1,769 MB), the share of that work that is
    # multi-threaded (keeps speeding up past one vCPU), and a fixed I/O wait. Working set in MB:
    # below it the function dies out of memory.
    cpu_ms: float = 20.0
    parallel: float = 0.0
    io_ms: float = 30.0
    working_set_mb: int = 90
    init_ms: float = 250.0  # typical INIT (or SnapStart restore) duration
    dlq: str | None = None  # function DeadLetterConfig target name
    dlq_kind: str = "sqs"  # sqs | sns
    on_failure: str | None = None  # async on-failure destination (SQS queue name)
    source: SourceSpec | None = None
    aliases: tuple[str, ...] = ()  # alias names pointing at published versions
    tags: dict[str, str] = field(default_factory=dict)
    lagging: bool = False  # stream consumer that falls behind
    deploy_at_frac: float | None = None  # a deploy during the window (all environments recycled)
    tracing: bool = True
    # Cold-start REPORT lines whose Billed Duration leaves INIT out although AWS bills it ("AWS Lambda
    # standardizes billing for INIT Phase", AWS Compute Blog, effective 2025-08-01).
    init_in_billed_line: bool = True
    # An older runtime's line shapes: a separate "Task timed out after N seconds" line and no Status on the
    # REPORT line; OOM deaths only as "Runtime exited with error: signal: killed" + Runtime.ExitError.
    legacy_lines: bool = False
    log_group_class: str = "STANDARD"  # CreateLogGroup logGroupClass: STANDARD | INFREQUENT_ACCESS

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.name}"

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def custom_log_group(self) -> bool:
        """LoggingConfig.LogGroup names a group other than the default: Lambda then puts the function's
        name in its stream names ("Configuring CloudWatch log groups", AWS Lambda Developer Guide)."""
        return self.log_group is not None and self.log_group != f"/aws/lambda/{self.name}"

    @property
    def has_log_group(self) -> bool:
        """Lambda creates the default group on the first invocation: a function that never ran has none
        (same guide: "CloudWatch automatically creates a log group ... when it's first invoked")."""
        return self.traffic != "none" or self.custom_log_group

    @property
    def is_async(self) -> bool:
        return self.traffic == "async"


def _named_fleet() -> list[FunctionSpec]:
    us, eu = REGIONS
    team = lambda t: {"team": t, "env": "prod"}  # noqa: E731
    return [
        FunctionSpec("checkout-api", us, "python3.12", "arm64", 512, 10, "JSON", traffic="api", rate_per_min=260,
                     reserved_concurrency=100, cpu_ms=18, io_ms=45, working_set_mb=140, init_ms=420,
                     aliases=("live",), tags=team("checkout"), error_rate=0.004),
        FunctionSpec("orders-api", us, "nodejs20.x", "x86_64", 256, 6, traffic="api", rate_per_min=150,
                     cpu_ms=6, io_ms=70, working_set_mb=95, init_ms=180, tags=team("orders"), aliases=("live",)),
        FunctionSpec("auth-authorizer", us, "provided.al2023", "arm64", 128, 3, traffic="api", rate_per_min=320,
                     cpu_ms=3, io_ms=2, working_set_mb=28, init_ms=45, tags=team("identity"), error_rate=0.0005),
        FunctionSpec("payments-async", us, "python3.12", "x86_64", 256, 30, traffic="async", rate_per_min=25,
                     cpu_ms=30, io_ms=220, working_set_mb=120, init_ms=520, dlq="payments-async-dlq",
                     error_rate=0.03, tags=team("payments")),
        FunctionSpec("image-resize", us, "nodejs20.x", "arm64", 1024, 60, traffic="async", rate_per_min=12,
                     cpu_ms=900, parallel=0.6, io_ms=120, working_set_mb=930, init_ms=350,
                     on_failure="image-resize-failures", tags=team("media"), error_rate=0.01),
        FunctionSpec("orders-stream-consumer", us, "java21", "x86_64", 1024, 120, traffic="stream", rate_per_min=30,
                     cpu_ms=260, io_ms=180, working_set_mb=410, init_ms=3100, lagging=True,
                     source=SourceSpec("kinesis", "orders-stream", on_failure="orders-stream-failures", batch_size=100),
                     tags=team("orders")),
        FunctionSpec("inventory-sync", us, "python3.12", "arm64", 256, 60, traffic="stream", rate_per_min=20,
                     cpu_ms=25, io_ms=60, working_set_mb=110, init_ms=480,
                     source=SourceSpec("dynamodb", "inventory", on_failure="inventory-sync-failures", batch_size=50),
                     tags=team("inventory")),
        FunctionSpec("order-queue-worker", us, "python3.12", "x86_64", 512, 30, traffic="queue", rate_per_min=45,
                     cpu_ms=40, io_ms=140, working_set_mb=160, init_ms=610, error_rate=0.012,
                     source=SourceSpec("sqs", "orders-queue", dlq="orders-dlq"), tags=team("orders")),
        FunctionSpec("billing-fifo-worker", us, "java17", "x86_64", 1536, 60, traffic="queue", rate_per_min=18,
                     cpu_ms=120, io_ms=90, working_set_mb=520, init_ms=2700, error_rate=0.01,
                     source=SourceSpec("sqs-fifo", "billing.fifo", dlq="billing-dlq.fifo", batch_size=10),
                     tags=team("billing")),
        FunctionSpec("quote-service", us, "java21", "arm64", 2048, 15, traffic="api", rate_per_min=60, snapstart=True,
                     cpu_ms=70, parallel=0.3, io_ms=35, working_set_mb=610, init_ms=420, aliases=("live",),
                     tags=team("pricing")),
        FunctionSpec("metrics-rollup", us, "python3.11", "x86_64", 3008, 900, traffic="cron",
                     cpu_ms=9000, parallel=0.1, io_ms=2500, working_set_mb=700, init_ms=900, tags=team("platform")),
        FunctionSpec("email-sender", us, "nodejs22.x", "x86_64", 128, 20, "JSON", traffic="queue", rate_per_min=35,
                     cpu_ms=8, io_ms=160, working_set_mb=82, init_ms=210, error_rate=0.02,
                     source=SourceSpec("sqs", "email-queue", dlq="email-dlq"), tags=team("growth")),
        FunctionSpec("pdf-render", us, "java21", "x86_64", 3008, 120, traffic="async", rate_per_min=6,
                     cpu_ms=800, parallel=0.2, io_ms=300, working_set_mb=310, init_ms=2900,
                     # 1% of documents fail: ~20 failures in a 6-hour window, so the SNS archive queue has
                     # messages (and two held in flight) at every hour; at the default 0.2% some windows
                     # had none and the archive's awkward cases were missing.
                     error_rate=0.01, dlq="pdf-render-dlq-topic", dlq_kind="sns", tags=team("documents")),
        FunctionSpec("search-indexer", us, "python3.12", "arm64", 768, 60, traffic="stream", rate_per_min=40,
                     cpu_ms=60, io_ms=80, working_set_mb=240, init_ms=700,
                     source=SourceSpec("kinesis", "clickstream", on_failure="clickstream-failures", batch_size=200),
                     tags=team("search")),
        FunctionSpec("webhook-receiver", us, "provided.al2023", "x86_64", 256, 10, traffic="diurnal", rate_per_min=90,
                     reserved_concurrency=4, cpu_ms=15, io_ms=260, working_set_mb=60, init_ms=60,
                     tags=team("integrations"), deploy_at_frac=0.55),
        FunctionSpec("user-profile-api", us, "python3.13", "arm64", 256, 10, "JSON",
                     log_group="/app/user-profile-api", traffic="api", rate_per_min=110,
                     cpu_ms=10, io_ms=55, working_set_mb=105, init_ms=390, tags=team("identity")),
        FunctionSpec("checkout-api-eu", eu, "python3.12", "arm64", 512, 10, "JSON", traffic="api", rate_per_min=120,
                     cpu_ms=18, io_ms=48, working_set_mb=140, init_ms=430, aliases=("live",), tags=team("checkout")),
        FunctionSpec("gdpr-export", eu, "python3.12", "x86_64", 1024, 300, traffic="async", rate_per_min=3,
                     cpu_ms=600, io_ms=4000, working_set_mb=300, init_ms=800, on_failure="gdpr-export-failures",
                     error_rate=0.05, tags=team("privacy")),
        FunctionSpec("tax-calculator", eu, "java21", "arm64", 1024, 8, traffic="api", rate_per_min=70,
                     cpu_ms=45, io_ms=20, working_set_mb=380, init_ms=3400, tags=team("pricing")),
        FunctionSpec("notifications-fanout", eu, "nodejs20.x", "arm64", 256, 30, traffic="queue", rate_per_min=50,
                     cpu_ms=12, io_ms=90, working_set_mb=88, init_ms=200,
                     source=SourceSpec("sqs", "notifications", dlq="notifications-dlq"), tags=team("growth")),
        FunctionSpec("ledger-fifo-consumer", eu, "python3.12", "x86_64", 512, 30, "JSON", traffic="queue",
                     rate_per_min=15, cpu_ms=35, io_ms=70, working_set_mb=150, init_ms=560, error_rate=0.015,
                     source=SourceSpec("sqs-fifo", "ledger.fifo", dlq="ledger-dlq.fifo"), tags=team("billing")),
        FunctionSpec("session-cleanup", eu, "provided.al2023", "arm64", 128, 120, traffic="cron",
                     cpu_ms=400, io_ms=1800, working_set_mb=40, init_ms=50, tags=team("identity")),
        FunctionSpec("price-feed-consumer", eu, "nodejs20.x", "x86_64", 512, 60, traffic="stream", rate_per_min=60,
                     cpu_ms=20, io_ms=35, working_set_mb=130, init_ms=240,
                     source=SourceSpec("kinesis", "price-feed", on_failure="price-feed-failures", batch_size=100),
                     tags=team("pricing")),
        FunctionSpec("thumbnail-eu", eu, "python3.11", "x86_64", 2048, 60, traffic="async", rate_per_min=20,
                     cpu_ms=1400, parallel=0.0, io_ms=40, working_set_mb=330, init_ms=650,
                     dlq="thumbnail-eu-dlq", tags=team("media")),
    ] + _awkward_fleet()


SHARED_LOG_GROUP = "/app/storefront"


def _awkward_fleet() -> list[FunctionSpec]:
    """Functions whose logs are shaped the way real accounts make them awkward; each
    one names its AWS source below.

    Appended after the original 24 so their names, order and traffic (seeded by position) stay as they were.
    """
    us, eu = REGIONS
    team = lambda t: {"team": t, "env": "prod"}  # noqa: E731
    return [
        # Three functions logging to one custom group, text and JSON mixed: stream names carry the function.
        FunctionSpec("storefront-cart", us, "python3.12", "x86_64", 512, 10, log_group=SHARED_LOG_GROUP,
                     traffic="api", rate_per_min=40, cpu_ms=12, io_ms=60, working_set_mb=120, init_ms=380,
                     tags=team("storefront")),
        FunctionSpec("storefront-search", us, "nodejs20.x", "arm64", 256, 6, log_group=SHARED_LOG_GROUP,
                     traffic="diurnal", rate_per_min=30, cpu_ms=9, io_ms=90, working_set_mb=95, init_ms=210,
                     tags=team("storefront")),
        FunctionSpec("storefront-reviews", us, "python3.13", "arm64", 256, 10, "JSON", log_group=SHARED_LOG_GROUP,
                     traffic="api", rate_per_min=12, cpu_ms=15, io_ms=70, working_set_mb=100, init_ms=400,
                     tags=team("storefront"), error_rate=0.01),
        # Deployed, configured, never invoked: no log group at all.
        FunctionSpec("reports-backfill", us, "python3.12", "x86_64", 1024, 900, traffic="none", rate_per_min=0,
                     cpu_ms=2000, io_ms=5000, working_set_mb=300, init_ms=600, tags=team("analytics")),
        # An old runtime with old line shapes; 3 s timeout and a working set at its 128 MB, so both deaths occur.
        # Its lines predate INIT billing in Billed Duration (and INIT_START lines).
        FunctionSpec("legacy-image-meta", us, "nodejs12.x", "x86_64", 128, 3, traffic="async", rate_per_min=20,
                     cpu_ms=60, io_ms=900, working_set_mb=118, init_ms=300, legacy_lines=True,
                     init_in_billed_line=False, error_rate=0.01, tags=team("media")),
        # A default-named group created ahead of the function in the INFREQUENT_ACCESS class.
        FunctionSpec("audit-trail-writer", eu, "python3.12", "arm64", 256, 30, traffic="queue", rate_per_min=25,
                     cpu_ms=10, io_ms=110, working_set_mb=90, init_ms=420, log_group_class="INFREQUENT_ACCESS",
                     tags=team("compliance")),
        # JSON format with SnapStart restores (restoreDurationMs / billedRestoreDurationMs).
        FunctionSpec("fx-rates-api", eu, "java21", "x86_64", 1024, 10, "JSON", traffic="api", rate_per_min=35,
                     snapstart=True, cpu_ms=40, io_ms=30, working_set_mb=330, init_ms=380, aliases=("live",),
                     tags=team("pricing")),
        # A Python ZIP function whose cold-start lines leave INIT out of Billed Duration.
        FunctionSpec("geo-lookup", eu, "python3.11", "x86_64", 512, 10, traffic="api", rate_per_min=45,
                     cpu_ms=20, io_ms=25, working_set_mb=150, init_ms=900, init_in_billed_line=False,
                     tags=team("platform")),
    ]


_RUNTIMES = ("python3.12", "nodejs20.x", "java21", "provided.al2023", "python3.13", "nodejs22.x")
_MEMORY = (128, 256, 512, 768, 1024, 1536, 2048, 3008)
_INIT = {"python": 400, "nodejs": 220, "java": 3000, "provided": 60}


def _generated(index: int, rng: random.Random) -> FunctionSpec:
    """A lighter benchmark function: steady traffic, no triggers (they would multiply seeding time)."""
    runtime = rng.choice(_RUNTIMES)
    family = next(k for k in _INIT if runtime.startswith(k))
    memory = rng.choice(_MEMORY)
    return FunctionSpec(
        name=f"svc-{index:04d}-{rng.choice(('api', 'worker', 'handler', 'job', 'sync'))}",
        region=REGIONS[index % len(REGIONS)],
        runtime=runtime,
        architecture=rng.choice(("x86_64", "arm64")),
        memory_mb=memory,
        timeout_s=rng.choice((3, 10, 30, 60)),
        log_format=rng.choice(("Text", "Text", "JSON")),
        traffic=rng.choice(("api", "diurnal", "async")),
        rate_per_min=round(rng.uniform(0.3, 4.0), 2),
        cpu_ms=round(rng.uniform(5, 200), 1),
        io_ms=round(rng.uniform(5, 300), 1),
        working_set_mb=min(memory - 8, rng.randint(40, 400)),
        init_ms=_INIT[family] * rng.uniform(0.7, 1.3),
        error_rate=rng.choice((0.0, 0.001, 0.005, 0.02)),
        tags={"team": "bench", "env": "prod"},
        tracing=False,
    )


def build_fleet(seed: int = 7, functions: int | None = None) -> list[FunctionSpec]:
    """The named fleet, trimmed to ``functions`` or extended with generated ones up to it."""
    named = _named_fleet()
    if functions is None or functions == len(named):
        return named
    if functions < len(named):
        return named[:max(1, functions)]
    rng = random.Random(seed * 1_000_003 + functions)
    return named + [_generated(i, rng) for i in range(len(named), functions)]


def queue_names(fleet: list[FunctionSpec]) -> dict[str, set[str]]:
    """Every SQS queue the fleet needs, per region (SNS topics are separate)."""
    out: dict[str, set[str]] = {}
    for fn in fleet:
        names = out.setdefault(fn.region, set())
        if fn.dlq and fn.dlq_kind == "sqs":
            names.add(fn.dlq)
        if fn.on_failure:
            names.add(fn.on_failure)
        if fn.source:
            if fn.source.kind.startswith("sqs"):
                names.add(fn.source.name)
            for n in (fn.source.dlq, fn.source.on_failure):
                if n:
                    names.add(n)
    return out
