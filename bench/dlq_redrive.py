"""Redrive throughput on the demo account: messages/s by hand (receive/send/delete) and by SQS
message move task, for 10,000 messages (not run by the test suite).

    python bench/dlq_redrive.py                      # starts `lambdaops demo serve` in a subprocess
    python bench/dlq_redrive.py --endpoint URL       # an account already serving
    python bench/dlq_redrive.py --messages 2000 --fifo --workers 1,4,8

The server runs in its own process, as a real account would: the client's CPU is not the server's.
Every run checks that the DLQ ended empty and the target holds every message.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(endpoint: str):
    return boto3.client("sqs", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="demo",
                        aws_secret_access_key="demo",
                        config=botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=32))


def serve() -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", "0",
                             "--functions", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    for line in proc.stdout:
        if "listening on" in line:
            return proc, line.rsplit(" ", 1)[-1].strip()
    raise SystemExit(f"demo serve did not start: {proc.stderr.read()[-2000:]}")


def make_queues(sqs, tag: str, fifo: bool) -> dict[str, str]:
    sfx = ".fifo" if fifo else ""
    base = {"FifoQueue": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"bench-{tag}-dlq{sfx}", Attributes=base)["QueueUrl"]
    src = sqs.create_queue(QueueName=f"bench-{tag}-src{sfx}", Attributes={**base, "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:bench-{tag}-dlq{sfx}", "maxReceiveCount": "3"})})["QueueUrl"]
    out = sqs.create_queue(QueueName=f"bench-{tag}-out{sfx}", Attributes=base)["QueueUrl"]
    return {"dlq": dlq, "src": src, "out": out}


def fill(sqs, url: str, n: int, fifo: bool) -> None:
    def batch(start: int) -> None:
        entries = []
        for i in range(start, min(n, start + 10)):
            e = {"Id": str(i - start), "MessageBody": json.dumps({"n": i, "pad": "x" * 200}),
                 "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)},
                                       "b": {"DataType": "Binary", "BinaryValue": i.to_bytes(4, "big")}}}
            if fifo:
                e.update(MessageGroupId=f"g{i % 10}", MessageDeduplicationId=f"d{i}")
            entries.append(e)
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(0, n, 10)))


def depth(sqs, url: str) -> tuple[int, int]:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def by_hand(endpoint: str, sqs, urls: dict, workers: int, journal_dir: Path) -> float:
    from lambdaops.aws.context import AwsContext, StaticCredentials
    from lambdaops.aws.dlq import resolve_queue
    from lambdaops.dlq.plan import open_journal
    from lambdaops.dlq.redrive import RedriveOptions, Redriver
    from lambdaops.dlq.journal import AuditLog

    ctx = AwsContext(regions=[REGION], endpoint_url=endpoint, credentials=StaticCredentials("demo", "demo"),
                     max_attempts=2, max_pool=64)
    dlq = resolve_queue(ctx, urls["dlq"].rsplit("/", 1)[-1])
    target = resolve_queue(ctx, urls["out"].rsplit("/", 1)[-1])
    opts = RedriveOptions(target=target, workers=workers, empty_wait_s=0)
    journal = open_journal(journal_dir, dlq, opts, resume=False)
    audit = AuditLog(journal_dir)
    t0 = time.perf_counter()
    result = Redriver(ctx, dlq, opts, journal=journal, audit=audit).run()
    elapsed = time.perf_counter() - t0
    journal.close()
    audit.close()
    assert not result.failed, result.failed[:3]
    return elapsed


def move_task(sqs, urls: dict, rate: int | None) -> float:
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{urls['dlq'].rsplit('/', 1)[-1]}"
    dest = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{urls['out'].rsplit('/', 1)[-1]}"
    params = {"SourceArn": arn, "DestinationArn": dest}
    if rate:
        params["MaxNumberOfMessagesPerSecond"] = rate
    t0 = time.perf_counter()
    sqs.start_message_move_task(**params)
    while True:
        task = sqs.list_message_move_tasks(SourceArn=arn)["Results"][0]
        if task["Status"] not in ("RUNNING", "CANCELLING"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    assert task["Status"] == "COMPLETED", task
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", help="a demo account already serving (default: start one)")
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--workers", default="1,4,8", help="by-hand worker counts to try")
    ap.add_argument("--fifo", action="store_true", help="FIFO queues (10 message groups)")
    ap.add_argument("--rate", type=int, default=None, help="MaxNumberOfMessagesPerSecond for the move task")
    args = ap.parse_args()
    proc = None
    endpoint = args.endpoint
    if endpoint is None:
        proc, endpoint = serve()
    sqs = client(endpoint)
    rows = []
    try:
        runs = [("by hand", int(w)) for w in args.workers.split(",")] + [("move task", None)]
        for i, (how, workers) in enumerate(runs):
            urls = make_queues(sqs, f"{int(time.time())}-{i}", args.fifo)
            t0 = time.perf_counter()
            fill(sqs, urls["dlq"], args.messages, args.fifo)
            fill_s = time.perf_counter() - t0
            with tempfile.TemporaryDirectory() as tmp:
                elapsed = (by_hand(endpoint, sqs, urls, workers, Path(tmp)) if how == "by hand"
                           else move_task(sqs, urls, args.rate))
            left, out = depth(sqs, urls["dlq"]), depth(sqs, urls["out"])
            ok = left == (0, 0) and out[0] == args.messages
            label = f"{how} ({workers} workers)" if workers else how + (f" (rate {args.rate}/s)" if args.rate else "")
            rows.append((label, args.messages / elapsed, elapsed, fill_s, ok))
            print(f"{label:<24} {args.messages / elapsed:8.0f} msg/s  {elapsed:6.1f} s  "
                  f"(filled in {fill_s:.1f} s; DLQ left {left}, target {out[0]}: {'ok' if ok else 'MISMATCH'})",
                  flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    if not all(r[-1] for r in rows):
        raise SystemExit("a run lost or duplicated messages")


if __name__ == "__main__":
    main()
