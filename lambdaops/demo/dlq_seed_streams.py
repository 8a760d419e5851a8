"""The stream event source mappings' on-failure destinations of the demo fleet: real records put
into the Kinesis stream / DynamoDB table first, then the batch-info records Lambda sends to the
destination, pointing at them ("Kinesis and DynamoDB event source mappings: on-failure destinations",
Lambda Developer Guide). Split from :mod:`lambdaops.demo.dlq_seed`, which schedules these tasks."""

from __future__ import annotations

import json
from typing import Iterator

from lambdaops.demo.dlq_payloads import Failure, function_arn, inventory_item, iso_ms, kinesis_record, rng_for
from lambdaops.demo.dlq_seed import DELAYED, Filled, STREAM_CAP, _clip, failures, send_all, send_last_delayed
from lambdaops.demo.fleet import FunctionSpec
from lambdaops.demo.seed import SeededRegion
from lambdaops.demo.seed_backends import BackendClients as Clients
from lambdaops.demo.state import DemoState


def _stream_record(spec: FunctionSpec, f: Failure, info_key: str, info: dict, arrival: int, n: int) -> dict:
    return {
        "requestContext": {"requestId": f.request_id, "functionArn": function_arn(spec),
                           "condition": "RecordAgeExceeded" if n % 9 == 4 else "RetryAttemptsExhausted",
                           "approximateInvokeCount": 1 if n % 9 == 4 else 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": iso_ms(arrival),
        info_key: info,
    }


def _chunks_at_batch_bounds(sizes: list[int], limit: int) -> Iterator[tuple[int, int]]:
    """(first record, end record) index ranges of at most ``limit`` records that never split a batch."""
    start = count = 0
    pos = 0
    for size in sizes:
        if count and count + size > limit:
            yield start, pos
            start, count = pos, 0
        pos += size
        count += size
    if count:
        yield start, pos


def seed_kinesis_on_failure(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    src = spec.source
    kinesis = clients("kinesis", spec.region)
    sqs = clients("sqs", spec.region)
    rng = rng_for(state.seed, spec.name, "stream")
    fails = failures(state, spec, STREAM_CAP)
    sizes = [rng.randint(1, 4) for _ in fails]
    records = []
    for n, (f, size) in enumerate(zip(fails, sizes)):
        # One partition key per batch: its records land consecutively in one shard, as a batch does.
        key = f"{spec.name}-{n}"
        records += [{"Data": kinesis_record(src.name, rng, f.ts_ms - 500 * (size - j), n * 4 + j), "PartitionKey": key}
                    for j in range(size)]
    placed: list[dict] = []
    for a, b in _chunks_at_batch_bounds(sizes, 500):
        resp = kinesis.put_records(StreamName=src.name, Records=records[a:b])
        if resp.get("FailedRecordCount"):
            raise RuntimeError(f"seeding {src.name}: {resp['FailedRecordCount']} records failed")
        placed += resp["Records"]
    stream_arn = seeded.stream_arns[src.name]
    entries, arrivals, pos = [], [], 0
    for n, (f, size) in enumerate(zip(fails, sizes)):
        first, last = placed[pos], placed[pos + size - 1]
        pos += size
        info = {"shardId": first["ShardId"], "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso_ms(f.ts_ms - 500 * size),
                "approximateArrivalOfLastRecord": iso_ms(f.ts_ms - 500), "batchSize": size, "streamArn": stream_arn}
        if n == 0 and src.name.startswith("click"):
            # A batch from before a reshard: its shard is gone, the records cannot be read back.
            info.update(shardId="shardId-000000000007", startSequenceNumber="49650000000000000000000000000000000000000000000000000001",
                        endSequenceNumber="49650000000000000000000000000000000000000000000000000003")
        arrival = min(f.ts_ms + 20_000, state.end_ms - 1)
        entries.append({"MessageBody": json.dumps(_stream_record(spec, f, "KinesisBatchInfo", info, arrival, n))})
        arrivals.append(arrival)
    url = seeded.queue_urls[src.on_failure]
    if (spec.region, src.on_failure) in DELAYED:
        delayed = send_last_delayed(sqs, url, entries)
    else:
        send_all(sqs, url, entries)
        delayed = 0
    return Filled(spec.region, src.on_failure, url, "stream-on-failure", _clip(arrivals, state), delayed=delayed)


def _read_ddb_stream(ds, stream_arn: str) -> list[dict]:
    out: list[dict] = []
    for shard in ds.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("Shards", []):
        it = ds.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = ds.get_records(ShardIterator=it, Limit=1000)
            recs = page.get("Records", [])
            out += [dict(r, _shard=shard["ShardId"]) for r in recs]
            if not recs:
                break
            it = page.get("NextShardIterator")
    return out


def seed_ddb_on_failure(clients: Clients, spec: FunctionSpec, seeded: SeededRegion, state: DemoState) -> Filled:
    src = spec.source
    ddb = clients("dynamodb", spec.region)
    ds = clients("dynamodbstreams", spec.region)
    sqs = clients("sqs", spec.region)
    rng = rng_for(state.seed, spec.name, "stream")
    fails = failures(state, spec, STREAM_CAP)
    sizes = [rng.randint(1, 3) for _ in fails]
    items = [inventory_item(rng, i) for i in range(sum(sizes))]
    for a, b in _chunks_at_batch_bounds(sizes, 25):
        ddb.batch_write_item(RequestItems={src.name: [{"PutRequest": {"Item": it}} for it in items[a:b]]})
    stream_arn = seeded.stream_arns[src.name]
    written = _read_ddb_stream(ds, stream_arn)[-len(items):] if items else []
    if len(written) != len(items):
        raise RuntimeError(f"seeding {src.name}: {len(written)} stream records for {len(items)} writes")
    entries, arrivals, pos = [], [], 0
    for n, (f, size) in enumerate(zip(fails, sizes)):
        first, last = written[pos], written[pos + size - 1]
        pos += size
        info = {"shardId": first["_shard"], "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso_ms(f.ts_ms - 400 * size),
                "approximateArrivalOfLastRecord": iso_ms(f.ts_ms - 400), "batchSize": size, "streamArn": stream_arn}
        arrival = min(f.ts_ms + 20_000, state.end_ms - 1)
        entries.append({"MessageBody": json.dumps(_stream_record(spec, f, "DDBStreamBatchInfo", info, arrival, n))})
        arrivals.append(arrival)
    url = seeded.queue_urls[src.on_failure]
    send_all(sqs, url, entries)
    return Filled(spec.region, src.on_failure, url, "stream-on-failure", _clip(arrivals, state))
