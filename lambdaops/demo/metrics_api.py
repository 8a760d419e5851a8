"""CloudWatch metrics for the demo account: GetMetricData, PutMetricData, ListMetrics.

moto's GetMetricData crashes on percentiles, returns nothing for metric math and is far too slow, so
the demo answers all three from its own store, which holds the seeded Lambda/SQS series and whatever
clients put (PutMetricData) — one store, so client data shows up exactly like seeded data.
"""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np

from lambdaops.demo.api_errors import DemoApiError
from lambdaops.demo.gateway import DemoRequest, DemoResponse, Gateway
from lambdaops.demo.metric_query import get_metric_data
from lambdaops.demo.metric_store import MetricStore


def metric_store(account) -> MetricStore:
    """The account's store; an empty one until (or unless) traffic has been generated."""
    state = account.state
    if state is not None:
        return state.metrics
    store = getattr(account, "_early_metrics", None)
    if store is None:
        store = account._early_metrics = MetricStore()
    return store


def _timestamp_ms(value) -> int:
    if value is None:
        return int(time.time() * 1000)
    if isinstance(value, (int, float)):
        return int(float(value) * 1000)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)


def _dims(raw) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in raw or []}


def put_metric_data(store: MetricStore, region: str, body: dict) -> None:
    namespace = body.get("Namespace")
    if not namespace:
        raise DemoApiError("MissingParameter", "The parameter Namespace is required.")
    if namespace.startswith("AWS/"):
        raise DemoApiError("InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.")
    data = body.get("MetricData") or []
    if not data:
        raise DemoApiError("MissingParameter", "The parameter MetricData is required.")
    if len(data) > 1000:
        raise DemoApiError("InvalidParameterValue", "The collection MetricData must not have a size greater than 1000.")
    for datum in data:
        name = datum.get("MetricName")
        if not name:
            raise DemoApiError("MissingParameter", "The parameter MetricData.member.MetricName is required.")
        ts = _timestamp_ms(datum.get("Timestamp"))
        dims, unit = _dims(datum.get("Dimensions")), datum.get("Unit")
        if "StatisticValues" in datum:
            sv = datum["StatisticValues"]
            store.add_statistic_set(region, namespace, name, dims, ts, sv["SampleCount"], sv["Sum"],
                                    sv["Minimum"], sv["Maximum"], unit)
        elif "Values" in datum:
            values = np.asarray(datum["Values"], dtype=np.float64)
            counts = np.asarray(datum.get("Counts") or [1] * len(values), dtype=np.int64)
            values = np.repeat(values, counts)
            store.add_samples(region, namespace, name, dims, np.full(values.size, ts, dtype=np.int64), values, unit)
        elif "Value" in datum:
            store.add_samples(region, namespace, name, dims, np.array([ts], dtype=np.int64),
                              np.array([float(datum["Value"])]), unit)
        else:
            raise DemoApiError("InvalidParameterCombination",
                               "The parameters MetricData.member.Value and MetricData.member.StatisticValues are "
                               "mutually exclusive and you must specify one of them.")


def install(gw: Gateway, account) -> None:
    @gw.handle("cloudwatch", "GetMetricData")
    def _get(req: DemoRequest) -> DemoResponse:
        result = get_metric_data(metric_store(account), req.region, req.json(), int(time.time() * 1000))
        return DemoResponse.json("cloudwatch", result)

    @gw.handle("cloudwatch", "PutMetricData")
    def _put(req: DemoRequest) -> DemoResponse:
        put_metric_data(metric_store(account), req.region, req.json())
        return DemoResponse.json("cloudwatch", {})

    @gw.handle("cloudwatch", "ListMetrics")
    def _list(req: DemoRequest) -> DemoResponse:
        body = req.json()
        metrics = metric_store(account).list_metrics(req.region, body.get("Namespace"), body.get("MetricName"),
                                                     body.get("Dimensions"))
        start = int(body.get("NextToken") or 0)
        page = metrics[start:start + 500]
        out = {"Metrics": page}
        if start + 500 < len(metrics):
            out["NextToken"] = str(start + 500)
        return DemoResponse.json("cloudwatch", out)
