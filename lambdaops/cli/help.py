"""Help that reads like the AWS CLI's: placeholders say what to type (FUNCTION, DURATION, MB,...),
never a Python type (``<str>``, ``<list[str]>``, ``<int range>``), and every command ends with an
example. Applied once to the Click command tree before parsing (:func:`dress`)."""

from __future__ import annotations

from typing import Any

# By option name; a command-specific entry ("tune --memory") wins over the plain one.
METAVARS: dict[str, str] = {
    "--profile": "PROFILE", "--region": "REGION[,REGION...]", "--endpoint-url": "URL",
    "--output": "FORMAT", "--since": "DURATION", "--start": "TIME", "--end": "TIME",
    "--functions": "FUNCTION", "--tag": "KEY=VALUE", "--out": "FILE", "--fail-on": "warning|critical",
    "--top": "N", "--raw-row-limit": "N", "--limit": "N", "--id": "TRACE_ID", "--max": "N", "--width": "N",
    "--journal": "DIR", "--rate": "PER_SECOND", "--workers": "N", "--filter": "JMESPATH",
    "tune --memory": "MB,...", "--num": "N", "--payload": "FILE", "--payloads": "FILE",
    "--strategy": "cost|speed|balanced", "--weight": "0..1", "--discard": "SHARE",
    "dlq redrive --to": "QUEUE", "--host": "HOST", "--port": "PORT", "--seed": "N",
    "demo serve --functions": "N", "--truth": "FILE", "--window": "DURATION", "--latency": "MS",
    "--quotas": "aws|off",
}
ARGUMENTS = {"function": "FUNCTION", "queue": "QUEUE", "name": "QUERY"}

EXAMPLES: dict[str, list[str]] = {
    "": ["lambdaops --demo report", "lambdaops --profile prod --region us-east-1,eu-west-1 functions"],
    "functions": ["lambdaops --region us-east-1,eu-west-1 functions --details -o json"],
    "report": ["lambdaops report --since 24h --fail-on critical",
               "lambdaops report --compare-previous -o html --out report.html"],
    "query": ["lambdaops query --list", "lambdaops query slowest --functions 'checkout-*' --since 6h"],
    "traces": ["lambdaops traces checkout-api --since 3h --top 5"],
    "tune": ["lambdaops tune checkout-api --memory 256,512,1024 --num 20 --strategy balanced"],
    "config": ["lambdaops --profile prod config -o json"],
    "demo": ["lambdaops demo serve --port 4566"],
    "demo serve": ["lambdaops demo serve --port 4566 --truth truth.json"],
    "dlq": ["lambdaops dlq list"],
    "dlq list": ["lambdaops dlq list --strict -o json"],
    "dlq show": ["lambdaops dlq show orders-dlq --max 5"],
    "dlq export": ["lambdaops dlq export orders-dlq --to orders-dlq.jsonl"],
    "dlq redrive": ["lambdaops dlq redrive orders-dlq --dry-run", "lambdaops dlq redrive orders-dlq --rate 10 --yes"],
    "dlq purge": ["lambdaops dlq purge orders-dlq --export orders-dlq.jsonl"],
}


def epilog(path: str) -> str | None:
    lines = EXAMPLES.get(path)
    if not lines:
        return None
    word = "Example" if len(lines) == 1 else "Examples"
    # \b keeps Click from re-wrapping the command lines into one paragraph
    return "\b\n" + f"{word}:\n" + "\n".join(f"  {line}" for line in lines)


def _bare_argument(param: Any) -> None:
    """Usage ``FUNCTION`` / ``[QUERY]`` instead of ``{function}``, and no ``<str>`` after it."""
    name = param.metavar

    param.display_type_rich = lambda ctx: None
    param._usage_display_name = lambda: name if param.required else f"[{name}]"


def dress(command: Any, path: str = "") -> None:
    """Set metavars and epilogs on ``command`` and its subcommands (idempotent)."""
    if getattr(command, "_lambdaops_dressed", False):
        return
    command._lambdaops_dressed = True
    if command.epilog is None:
        command.epilog = epilog(path)
    for param in command.params:
        if param.param_type_name == "argument":
            if param.metavar is None and param.name in ARGUMENTS:
                param.metavar = ARGUMENTS[param.name]
            if param.metavar is not None:
                _bare_argument(param)
            continue
        if param.metavar is not None or getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
            continue
        long = max(param.opts, key=len)
        metavar = METAVARS.get(f"{path} {long}".strip()) or METAVARS.get(long)
        if metavar is None:
            metavar = {"int": "N", "float": "NUMBER", "path": "PATH"}.get(getattr(param.type, "name", ""), "TEXT")
        param.metavar = metavar
    for name, sub in (getattr(command, "commands", None) or {}).items():
        dress(sub, f"{path} {name}".strip())
