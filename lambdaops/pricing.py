"""Lambda prices: the one table every cost figure in lambdaops is computed from.

Prices change and differ by region and architecture, so they live here and nowhere else. Every
number is marked with the date it was last checked; re-check them against
https://aws.amazon.com/lambda/pricing/ periodically (the ``(check)`` items of aws-facts.md section 6).

Figures use the first duration tier (what all but the largest accounts pay) and ignore the free tier
(1M requests and 400,000 GB-s a month, shared by the whole account: it does not change which
memory size is cheaper, and a per-function report cannot know how much of it is left).
"""

from __future__ import annotations

PRICES_CHECKED = "2025-08"  # when the table below was last compared with the pricing page

X86_64 = "x86_64"
ARM64 = "arm64"
ARCHITECTURES = (X86_64, ARM64)

# USD per million requests in us-east-1 and most regions (check: a few regions may bill more; add
# them to _REGIONAL_REQUEST_PER_MILLION when confirmed).
REQUEST_PRICE_PER_MILLION = 0.20
_REGIONAL_REQUEST_PER_MILLION: dict[str, float] = {}

# USD per GB-second of billed duration, first tier (first 6B GB-s/month x86, 7.5B arm64).
# Regions not listed pay the us-east-1 price, which most regions share.
_DEFAULT_GB_SECOND = {X86_64: 0.0000166667, ARM64: 0.0000133334}
_REGIONAL_GB_SECOND: dict[str, dict[str, float]] = {
    # Pricier regions (check, PRICES_CHECKED):
    "af-south-1": {X86_64: 0.0000221000, ARM64: 0.0000176800},
    "ap-east-1": {X86_64: 0.0000229200, ARM64: 0.0000183000},
    "eu-south-1": {X86_64: 0.0000195172, ARM64: 0.0000156138},
    "me-south-1": {X86_64: 0.0000206667, ARM64: 0.0000165334},
    "me-central-1": {X86_64: 0.0000206667, ARM64: 0.0000165334},
}

# us-east-1 duration tiers for reference (monthly GB-s upper bound, price); not used per invocation.
GB_SECOND_TIERS = {
    X86_64: ((6e9, 0.0000166667), (15e9, 0.0000150000), (float("inf"), 0.0000133334)),
    ARM64: ((7.5e9, 0.0000133334), (18.75e9, 0.0000120001), (float("inf"), 0.0000106667)),
}


def normalize_architecture(architecture: str | None) -> str:
    """'arm64' / 'x86_64' (also accepts 'arm', 'x86', None = Lambda's default x86_64)."""
    arch = (architecture or X86_64).lower()
    if arch.startswith("arm"):
        return ARM64
    if arch in ("x86", "x86_64", "amd64"):
        return X86_64
    raise ValueError(f"unknown Lambda architecture {architecture!r}")


def gb_second_price(region: str | None, architecture: str | None = X86_64) -> float:
    """USD per GB-second in ``region`` for ``architecture``."""
    arch = normalize_architecture(architecture)
    return _REGIONAL_GB_SECOND.get(region or "", _DEFAULT_GB_SECOND)[arch]


def request_price(region: str | None = None) -> float:
    """USD for one request in ``region``."""
    return _REGIONAL_REQUEST_PER_MILLION.get(region or "", REQUEST_PRICE_PER_MILLION) / 1e6


def price_per_ms(memory_mb: float, region: str | None, architecture: str | None = X86_64) -> float:
    """USD per billed millisecond at ``memory_mb`` (Lambda bills memory in GB = MB / 1024)."""
    return gb_second_price(region, architecture) * (memory_mb / 1024.0) / 1000.0


def invocation_cost(billed_ms: float, memory_mb: float, region: str | None, architecture: str | None = X86_64,
                    *, request_charge: bool = True) -> float:
    """USD for one invocation: billed duration x the per-ms price, plus the request charge."""
    cost = billed_ms * price_per_ms(memory_mb, region, architecture)
    if request_charge:
        cost += request_price(region)
    return cost
