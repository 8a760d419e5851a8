"""Reading a failed stream batch back from its stream (Kinesis, DynamoDB Streams): a stream mapping's
on-failure record holds only where the batch was (shard, first and last sequence numbers), not the
records ("On-failure destinations", AWS Lambda Developer Guide, Kinesis and DynamoDB event sources).
Each call names the AWS CLI command it equals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore import exceptions as bx

from lambdaops.aws.context import AwsContext
from lambdaops.aws.errors import error_code, translate

if TYPE_CHECKING:  # the calls layer imports nothing of the DLQ engine at run time
    from lambdaops.models import StreamBatch


def _arn_region(arn: str) -> str:
    return arn.split(":")[3]


@dataclass
class FetchedRecords:
    records: list[dict]
    note: str | None = None  # why some or all records could not be read back

    @property
    def complete(self) -> bool:
        return self.note is None


def sequence_key(seq: str) -> tuple[int, str]:
    """Stream sequence numbers compare as integers (Kinesis: up to 56 digits; moto: small ints)."""
    try:
        return int(seq), ""
    except (TypeError, ValueError):
        return -1, str(seq)


def fetch_batch_records(ctx: AwsContext, batch: "StreamBatch", *, max_calls: int = 20) -> FetchedRecords:
    """Read a failed batch back from its stream: ``aws kinesis get-shard-iterator
    --shard-iterator-type AT_SEQUENCE_NUMBER`` + ``get-records`` (or ``aws dynamodbstreams ...``)
    until past the end sequence number. Records gone (retention, reshard) are reported, not raised."""
    region = _arn_region(batch.stream_arn) if batch.stream_arn.count(":") >= 5 else None
    if not region:
        return FetchedRecords([], f"no stream ARN in the batch info ({batch.stream_arn!r})")
    service = "kinesis" if batch.stream == "kinesis" else "dynamodbstreams"
    cli = ctx.client(service, region)
    start, end = sequence_key(batch.start_sequence_number), sequence_key(batch.end_sequence_number)
    try:
        if service == "kinesis":
            it = cli.get_shard_iterator(StreamARN=batch.stream_arn, ShardId=batch.shard_id,
                                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        StartingSequenceNumber=batch.start_sequence_number)["ShardIterator"]
        else:
            it = cli.get_shard_iterator(StreamArn=batch.stream_arn, ShardId=batch.shard_id,
                                        ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        SequenceNumber=batch.start_sequence_number)["ShardIterator"]
    except bx.ClientError as exc:
        code = error_code(exc)
        if code in ("ResourceNotFoundException", "TrimmedDataAccessException", "InvalidArgumentException",
                    "ExpiredIteratorException"):
            return FetchedRecords([], f"records no longer readable ({code}): the stream's retention passed, "
                                      "or the shard or stream is gone")
        raise translate(exc, profile=ctx.profile, region=region) from exc
    except bx.BotoCoreError as exc:
        raise translate(exc, profile=ctx.profile, region=region) from exc
    records: list[dict] = []
    want = batch.batch_size or 10_000
    for _ in range(max_calls):
        try:
            params: dict[str, Any] = {"ShardIterator": it, "Limit": min(1000, max(want - len(records), 1))}
            if service == "kinesis":
                params["StreamARN"] = batch.stream_arn
            page = cli.get_records(**params)
        except bx.ClientError as exc:
            if error_code(exc) in ("TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException"):
                return FetchedRecords(records, f"records no longer readable ({error_code(exc)})")
            raise translate(exc, profile=ctx.profile, region=region) from exc
        got = page.get("Records", [])
        done = False
        for rec in got:
            seq = rec["SequenceNumber"] if service == "kinesis" else rec.get("dynamodb", {}).get("SequenceNumber")
            if sequence_key(str(seq)) > end:
                done = True
                break
            records.append(rec)
        it = page.get("NextShardIterator")
        if done or len(records) >= want or not it or not got:
            break
    if not records:
        return FetchedRecords([], "records no longer in the stream (retention passed?)")
    first_seq = records[0]["SequenceNumber"] if service == "kinesis" else records[0]["dynamodb"]["SequenceNumber"]
    if sequence_key(str(first_seq)) != start:
        return FetchedRecords(records, "the first records of the batch have expired")
    if batch.batch_size and len(records) < batch.batch_size:
        return FetchedRecords(records, f"only {len(records)} of {batch.batch_size} records could be read")
    return FetchedRecords(records)
