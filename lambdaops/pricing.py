"""Lambda prices: the one dated table every cost figure in lambdaops is computed from.

Prices differ by region, architecture and currency, so they live here and nowhere else. Each region
row names its source and the date it was checked; a figure that could not be confirmed against a
source carries "(check)" in the row's ``unconfirmed`` list. Re-check against
https://aws.amazon.com/lambda/pricing/ (commercial regions; its region selector) and
https://www.amazonaws.cn/en/lambda/pricing/ (China regions, priced in CNY by Sinnet and NWCD).

What a function pays (the pricing page's sections "AWS Lambda Pricing", "Lambda Ephemeral Storage
Pricing", "Provisioned Concurrency Pricing"):

- requests, per million;
- duration, per GB-second of billed duration (memory in GB = MB / 1024);
- ephemeral storage above the free 512 MB, per GB-second of the same billed duration;
- provisioned concurrency: per GB-second of configured concurrency while it is enabled, and a lower
  duration price for the invocations it serves (requests are charged as usual).

Figures use the first duration tier (what all but the largest accounts pay) and ignore the free tier
(1M requests and 400,000 GB-s a month, shared by the whole account: it does not change which memory
size is cheaper, and a per-function report cannot know how much of it is left). A region missing from
the table has no price: its cost is None with the reason, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRICES_CHECKED = "2026-12-01"  # when the table below was last compared with its sources

X86_64 = "x86_64"
ARM64 = "arm64"
ARCHITECTURES = (X86_64, ARM64)
USD = "USD"
CNY = "CNY"
FREE_EPHEMERAL_MB = 512

PRICING_PAGE = "https://aws.amazon.com/lambda/pricing/"
CHINA_PRICING_PAGE = "https://www.amazonaws.cn/en/lambda/pricing/"


@dataclass(frozen=True)
class RegionPrice:
    currency: str
    gb_second: dict[str, float]  # duration, first tier
    request_per_million: float
    ephemeral_gb_second: float | None  # per GB above 512 MB per second of billed duration
    provisioned_gb_second: dict[str, float] | None  # configured provisioned concurrency
    provisioned_duration_gb_second: dict[str, float] | None  # invocations served by it
    source: str
    checked: str = PRICES_CHECKED
    unconfirmed: tuple[str, ...] = field(default=())  # the figures marked "(check)"

    def check_marks(self) -> list[str]:
        return [f"{name} (check, {self.checked})" for name in self.unconfirmed]


# US East (N. Virginia), from the pricing page: duration x86 $0.0000166667 and Arm $0.0000133334 per
# GB-s, $0.20 per 1M requests, ephemeral storage $0.0000000309 per GB-s, provisioned concurrency x86
# $0.0000041667 per GB-s with duration $0.0000097222 per GB-s when served by it (Arm $0.0000077778).
_US_EAST_1 = RegionPrice(
    currency=USD,
    gb_second={X86_64: 0.0000166667, ARM64: 0.0000133334},
    request_per_million=0.20,
    ephemeral_gb_second=0.0000000309,
    provisioned_gb_second={X86_64: 0.0000041667, ARM64: 0.0000033334},
    provisioned_duration_gb_second={X86_64: 0.0000097222, ARM64: 0.0000077778},
    source=f"{PRICING_PAGE} (US East (N. Virginia))",
    unconfirmed=("arm64 provisioned concurrency",),
)


def _same_as_us_east_1(name: str) -> RegionPrice:
    return RegionPrice(_US_EAST_1.currency, _US_EAST_1.gb_second, _US_EAST_1.request_per_million,
                       _US_EAST_1.ephemeral_gb_second, _US_EAST_1.provisioned_gb_second,
                       _US_EAST_1.provisioned_duration_gb_second, source=f"{PRICING_PAGE} ({name})",
                       unconfirmed=("every figure: assumed equal to US East (N. Virginia)",) + _US_EAST_1.unconfirmed)


def _pricier(name: str, x86: float, arm: float, source: str, request_per_million: float = 0.20) -> RegionPrice:
    """A region whose duration costs more; its ephemeral storage and provisioned concurrency prices
    were not found, so they stay None (a cost that needs them is None, not a guess)."""
    return RegionPrice(USD, {X86_64: x86, ARM64: arm}, request_per_million, None, None, None,
                       source=f"{source} ({name})",
                       unconfirmed=("duration", "requests", "ephemeral storage: unknown",
                                    "provisioned concurrency: unknown"))


_TABLE: dict[str, RegionPrice] = {
    "us-east-1": _US_EAST_1,
    **{r: _same_as_us_east_1(n) for r, n in (
        ("us-east-2", "US East (Ohio)"), ("us-west-1", "US West (N. California)"), ("us-west-2", "US West (Oregon)"),
        ("ca-central-1", "Canada (Central)"), ("sa-east-1", "South America (Sao Paulo)"),
        ("eu-west-1", "Europe (Ireland)"), ("eu-west-2", "Europe (London)"), ("eu-west-3", "Europe (Paris)"),
        ("eu-central-1", "Europe (Frankfurt)"), ("eu-north-1", "Europe (Stockholm)"),
        ("ap-south-1", "Asia Pacific (Mumbai)"), ("ap-southeast-1", "Asia Pacific (Singapore)"),
        ("ap-southeast-2", "Asia Pacific (Sydney)"), ("ap-northeast-1", "Asia Pacific (Tokyo)"),
        ("ap-northeast-2", "Asia Pacific (Seoul)"))},
    # Pricier regions: the figures lambdaops carried since 2025-08, which match open-source price
    # tables that cite the pricing page; not re-confirmed against the page itself here (check).
    "af-south-1": _pricier("Africa (Cape Town)", 0.0000221000, 0.0000176800, PRICING_PAGE),
    "ap-east-1": _pricier("Asia Pacific (Hong Kong)", 0.0000229200, 0.0000183000, PRICING_PAGE),
    "eu-south-1": _pricier("Europe (Milan)", 0.0000195172, 0.0000156138, PRICING_PAGE),
    "me-south-1": _pricier("Middle East (Bahrain)", 0.0000206667, 0.0000165334, PRICING_PAGE),
    "me-central-1": _pricier("Middle East (UAE)", 0.0000206667, 0.0000165334, PRICING_PAGE),
    # About 30% above us-east-1 (AWS Lambda pricing page, Asia Pacific (Osaka)): 1.3 x the us-east-1 figures.
    "ap-northeast-3": _pricier("Asia Pacific (Osaka)", 0.0000216667, 0.0000173334, PRICING_PAGE),
    # China: priced and billed in CNY ("Billing and Payment", Getting Started with AWS in China).
    # x86 duration CNY 0.000113477 per GB-s and CNY 1.36 per 1M requests as quoted for Ningxia; Arm
    # taken as 80% of x86 as in every other region (check).
    **{r: RegionPrice(CNY, {X86_64: 0.000113477, ARM64: 0.0000907816}, 1.36, None, None, None,
                      source=f"{CHINA_PRICING_PAGE} ({n})",
                      unconfirmed=("duration", "requests", "arm64 duration: 80% of x86",
                                   "ephemeral storage: unknown", "provisioned concurrency: unknown"))
       for r, n in (("cn-north-1", "China (Beijing)"), ("cn-northwest-1", "China (Ningxia)"))},
}

# us-east-1 duration tiers for reference (monthly GB-s upper bound, price); not used per invocation.
GB_SECOND_TIERS = {
    X86_64: ((6e9, 0.0000166667), (15e9, 0.0000150000), (float("inf"), 0.0000133334)),
    ARM64: ((7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (float("inf"), 0.0000106667)),
}
# Kept for callers of the old constant: the request price of the USD regions in the table.
REQUEST_PRICE_PER_MILLION = _US_EAST_1.request_per_million


def normalize_architecture(architecture: str | None) -> str:
    """'arm64' / 'x86_64' (also accepts 'arm', 'x86', None = Lambda's default x86_64)."""
    arch = (architecture or X86_64).lower()
    if arch.startswith("arm"):
        return ARM64
    if arch in ("x86", "x86_64", "amd64"):
        return X86_64
    raise ValueError(f"unknown Lambda architecture {architecture!r}")


def region_price(region: str | None) -> RegionPrice | None:
    """The dated price row of ``region``; None when the table has none (GovCloud, new regions)."""
    return _TABLE.get(region or "")


def currency(region: str | None) -> str | None:
    row = region_price(region)
    return row.currency if row else None


def gb_second_price(region: str | None, architecture: str | None = X86_64) -> float:
    """Per GB-second in ``region``'s currency. For comparisons between memory sizes (tuning) a region
    missing from the table is priced as us-east-1: the scale does not change which size is cheaper;
    amounts use :func:`function_cost`, which says when it has no price."""
    arch = normalize_architecture(architecture)
    return (region_price(region) or _US_EAST_1).gb_second[arch]


def request_price(region: str | None = None) -> float:
    """One request in ``region``'s currency (us-east-1's for a region missing from the table)."""
    return (region_price(region) or _US_EAST_1).request_per_million / 1e6


def ephemeral_gb_second_price(region: str | None) -> float | None:
    row = region_price(region)
    return row.ephemeral_gb_second if row else None


def provisioned_concurrency_price(region: str | None, architecture: str | None = X86_64) -> float | None:
    """Per GB-second of configured provisioned concurrency, while it is enabled."""
    row = region_price(region)
    return row.provisioned_gb_second[normalize_architecture(architecture)] if row and row.provisioned_gb_second else None


def provisioned_duration_price(region: str | None, architecture: str | None = X86_64) -> float | None:
    """Per GB-second of billed duration of invocations served by provisioned concurrency."""
    row = region_price(region)
    if not row or not row.provisioned_duration_gb_second:
        return None
    return row.provisioned_duration_gb_second[normalize_architecture(architecture)]


def price_per_ms(memory_mb: float, region: str | None, architecture: str | None = X86_64) -> float:
    """Per billed millisecond at ``memory_mb`` (Lambda bills memory in GB = MB / 1024)."""
    return gb_second_price(region, architecture) * (memory_mb / 1024.0) / 1000.0


def invocation_cost(billed_ms: float, memory_mb: float, region: str | None, architecture: str | None = X86_64,
                    *, request_charge: bool = True) -> float:
    """One invocation in ``region``'s currency: billed duration x the per-ms price, plus the request
    charge (see :func:`currency`)."""
    cost = billed_ms * price_per_ms(memory_mb, region, architecture)
    if request_charge:
        cost += request_price(region)
    return cost


@dataclass(frozen=True)
class Cost:
    amount: float | None
    currency: str | None
    note: str | None = None  # why the amount is None, or what it leaves out


def function_cost(billed_ms: float | None, invocations: float | None, memory_mb: float, region: str | None,
                  architecture: str | None = X86_64, *, ephemeral_storage_mb: float | None = None,
                  provisioned_billed_ms: float = 0.0, provisioned_gb_seconds: float = 0.0) -> Cost:
    """What a function's window cost: requests, on-demand duration, ephemeral storage above 512 MB
    for the same billed duration, and provisioned concurrency (``provisioned_gb_seconds`` configured,
    ``provisioned_billed_ms`` of the billed duration served by it at its lower price)."""
    if billed_ms is None or invocations is None:
        return Cost(None, None, "billed duration or invocations unknown")
    row = region_price(region)
    if row is None:
        return Cost(None, None, f"no Lambda price for {region} in lambdaops/pricing.py (checked {PRICES_CHECKED})")
    arch = normalize_architecture(architecture)
    gb = memory_mb / 1024.0
    on_demand_ms = max(0.0, billed_ms - provisioned_billed_ms)
    amount = on_demand_ms / 1000.0 * gb * row.gb_second[arch] + invocations * row.request_per_million / 1e6
    extra_mb = max(0.0, (ephemeral_storage_mb or FREE_EPHEMERAL_MB) - FREE_EPHEMERAL_MB)
    if extra_mb:
        if row.ephemeral_gb_second is None:
            return Cost(None, row.currency, f"no ephemeral storage price for {region}")
        amount += billed_ms / 1000.0 * (extra_mb / 1024.0) * row.ephemeral_gb_second
    if provisioned_billed_ms or provisioned_gb_seconds:
        if row.provisioned_gb_second is None or row.provisioned_duration_gb_second is None:
            return Cost(None, row.currency, f"no provisioned concurrency price for {region}")
        amount += provisioned_billed_ms / 1000.0 * gb * row.provisioned_duration_gb_second[arch]
        amount += provisioned_gb_seconds * row.provisioned_gb_second[arch]
    return Cost(amount, row.currency)
