"""The baseline: the per-function boto3 script a user would write for the figures `lambdaops report`
gives, one function after another.

    python bench/naive_script.py --endpoint-url http://127.0.0.1:4566 --regions us-east-1,eu-west-1 [--since-min 360]

Per region: ListFunctions; per function GetFunctionConcurrency, GetFunctionEventInvokeConfig, one
GetMetricStatistics per metric (the report's eight figures), and one Logs Insights query on its log
group (cold starts, init p50/p99, peak memory, billed ms), polled every second. boto3's default
retries absorb throttling, as they would for the user. Prints one JSON line: seconds, calls (every
HTTP attempt, retries included), functions.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta, timezone

import boto3
from botocore.exceptions import ClientError

METRICS = [("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"), ("Duration", "p50"),
           ("Duration", "p90"), ("Duration", "p99"), ("Duration", "Maximum"), ("ConcurrentExecutions", "Maximum")]
QUERY = ('filter @type = "REPORT" | stats count(*) as invocations, count(@initDuration) as coldStarts, '
         'pct(@initDuration, 50) as initP50, pct(@initDuration, 99) as initP99, '
         'max(@maxMemoryUsed) as maxMemory, sum(@billedDuration) as billedMs')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--since-min", type=int, default=360)
    args = ap.parse_args()
    calls = [0]
    session = boto3.Session(aws_access_key_id="demo", aws_secret_access_key="demo")
    session.events.register("before-send", lambda **kw: calls.__setitem__(0, calls[0] + 1))
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=args.since_min)
    t0 = time.perf_counter()
    rows = []
    for region in args.regions.split(","):
        lam = session.client("lambda", region_name=region, endpoint_url=args.endpoint_url)
        cw = session.client("cloudwatch", region_name=region, endpoint_url=args.endpoint_url)
        logs = session.client("logs", region_name=region, endpoint_url=args.endpoint_url)
        functions = [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
        for fn in functions:
            name = fn["FunctionName"]
            row = {"name": name, "region": region}
            row["reserved"] = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
            try:
                cfg = lam.get_function_event_invoke_config(FunctionName=name)
                row["on_failure"] = cfg.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            except ClientError:
                row["on_failure"] = None
            for metric, stat in METRICS:
                extended = stat.startswith("p")
                kw = {"ExtendedStatistics": [stat]} if extended else {"Statistics": [stat]}
                points = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, StartTime=start,
                                                  EndTime=end, Period=args.since_min * 60,
                                                  Dimensions=[{"Name": "FunctionName", "Value": name}], **kw)
                row[f"{metric}:{stat}"] = [p.get("ExtendedStatistics", {}).get(stat) if extended else p.get(stat)
                                           for p in points["Datapoints"]]
            group = (fn.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
            try:
                qid = logs.start_query(logGroupName=group, startTime=int(start.timestamp()),
                                       endTime=int(end.timestamp()), queryString=QUERY)["queryId"]
            except ClientError:
                row["logs"] = None  # no log group: the function never ran
                rows.append(row)
                continue
            while True:
                time.sleep(1)
                res = logs.get_query_results(queryId=qid)
                if res["status"] not in ("Scheduled", "Running"):
                    break
            row["logs"] = res.get("results")
            rows.append(row)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "calls": calls[0], "functions": len(rows)}))


if __name__ == "__main__":
    main()
