"""What watching costs the watched account: API calls so far and their approximate price.

The header shows it because a dashboard that refreshes every minute is itself a bill (Amazon
CloudWatch pricing: every metric requested through GetMetricData is billed). Prices are list prices (check) in one table so they
are easy to update; control-plane calls (Lambda, STS, tagging) are free.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdaops.collect.meter import INSIGHTS_USD_PER_GB

PRICE_PER_METRIC = 0.01 / 1000  # GetMetricData, per metric requested
PRICE_PER_INSIGHTS_GB = INSIGHTS_USD_PER_GB  # Logs Insights, per GB scanned
PRICE_PER_REQUEST = {  # per API request, by service
    "sqs": 0.40 / 1e6,
    "xray": 0.50 / 1e6,  # traces retrieved: bounded by one per request here (5 per BatchGetTraces)
}


@dataclass
class ApiUsage:
    calls: int
    metrics: int
    insights_bytes: float
    usd: float

    def label(self) -> str:
        cost = f"~${self.usd:.4f}" if self.usd < 1 else f"~${self.usd:,.2f}"
        return f"API {self.calls:,} {'call' if self.calls == 1 else 'calls'} {cost}"


def estimate(calls: dict[str, int], metrics: int, insights_bytes: float) -> ApiUsage:
    usd = metrics * PRICE_PER_METRIC + insights_bytes / 1e9 * PRICE_PER_INSIGHTS_GB
    for op, n in calls.items():
        service = op.split(".", 1)[0]
        per = PRICE_PER_REQUEST.get(service, 0.0)
        if op == "xray.BatchGetTraces":
            per *= 5
        usd += n * per
    return ApiUsage(sum(calls.values()), metrics, insights_bytes, usd)
