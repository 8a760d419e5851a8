"""The fleet's sparklines: invocations per function in a few periods of the window, one GetMetricData
run per region.

Apart from the fleet snapshot (collect.fleet) and without its imports (pandas, the analysis): the
TUI asks for them as soon as the functions are listed, so they are the first telemetry read.
"""

from __future__ import annotations

from lambdaops.aws.context import AwsContext
from lambdaops.aws.metrics import LAMBDA_NAMESPACE as LAMBDA, MetricQuery, get_metric_data
from lambdaops.collect.meter import Meter, add
from lambdaops.models import FunctionInfo
from lambdaops.window import Window, periods

SPARK_POINTS = 12


def sparklines(ctx: AwsContext, fns: list[FunctionInfo], window: Window, *, points: int = SPARK_POINTS,
               meter: Meter | None = None) -> dict[tuple[str, str], list[float]]:
    """Invocations per (region, function) in about ``points`` periods (0 where CloudWatch has no
    datapoint); functions whose metric could not be fetched are left out."""
    cut = periods(window, points)
    out: dict[tuple[str, str], list[float]] = {}
    for region in sorted({f.region for f in fns}):
        in_region = [f for f in fns if f.region == region]
        queries = [MetricQuery((f.name,), LAMBDA, "Invocations", (("FunctionName", f.name),), "Sum", cut.period)
                   for f in in_region]
        res = get_metric_data(ctx, region, queries, cut.start, window.end)
        add(meter, metrics=len(queries))
        for f in in_region:
            if (f.name,) in res.failed:
                continue
            r = res.results[(f.name,)]
            values = dict(zip((t.timestamp() for t in r.timestamps), r.values))
            out[(region, f.name)] = [values.get(t.timestamp(), 0.0) for t in cut.grid()]
    return out
