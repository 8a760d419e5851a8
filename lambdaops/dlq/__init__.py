"""DLQ logic that is not an AWS call: decoding messages, the export file, the redrive engine and its
journal, the plan a redrive follows. The calls themselves live in :mod:`lambdaops.aws` (``aws/dlq.py``);
nothing here imports boto3 or botocore."""

EACH_FUNCTION = "@each"  # ``--invoke`` without a value: each message's own function
