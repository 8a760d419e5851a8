"""Run the README's CLI examples as written against ``lambdaops demo serve --port 4566``.

    /work/venv/bin/python scripts/readme_examples.py [--only REGEX] [--list]

Takes every ``lambdaops``/``aws``/``awsdemo``/``echo`` line of the README's ``sh`` blocks in the command
sections, starts the demo on 127.0.0.1:4566 (the port the README names), and runs each line in bash
with the shell lines ``demo serve`` printed (its exports and alias) in a scratch directory, without a
terminal (as cron would). Each line must end with the exit code the README promises: 0 unless listed
in EXPECT with the reason. Prints one line per example and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTIONS = ("Commands", "Queries and traces", "The fleet report", "The demo account for other tools",
            "Dead-letter queues", "Power tuning")
# Lines that are not examples to run here: the server itself (started below) and the TUI.
SKIP = (re.compile(r"^lambdaops demo serve\b"), re.compile(r"^lambdaops( --demo)?$"))
# Exit codes other than 0 that the README documents for an example, with where it says so.
EXPECT: dict[str, tuple[set[int], str]] = {
    r"--fail-on critical": ({0, 1}, "exit 1 when a critical finding exists (the demo has some)"),
    r"^lambdaops dlq redrive orders-dlq$": ({2}, "asks first, and refuses without a terminal"),
    r"^lambdaops dlq redrive billing-dlq\.fifo": ({2}, "asks first, and refuses without a terminal"),
    r"^lambdaops dlq purge ": ({2}, "asks first, and refuses without a terminal"),
    r"^lambdaops dlq redrive orders-dlq --resume$": ({2}, "nothing to resume: no run was killed"),
    r"--apply$": ({2}, "--apply asks first, and refuses without a terminal"),
}


def examples() -> list[str]:
    out, section, block = [], "", False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and not block:
            section = line.lstrip("#").strip()
            continue
        if line.startswith("```"):
            block = line.strip() == "```sh" and not block
            continue
        if not block or section not in SECTIONS:
            continue
        cmd = re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()
        if re.match(r"^(lambdaops|aws|awsdemo|echo)\b", cmd) and not any(rx.search(cmd) for rx in SKIP):
            out.append(cmd)
    return out


def start_demo(port: int) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "lambdaops.cli.main", "demo", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    lines: list[str] = []
    deadline = time.time() + 180
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            sys.exit(f"demo serve did not start: {proc.stderr.read()[-1500:]}")
        if line.startswith("press Ctrl-C"):
            break
        if line.startswith("  ") and not line.strip().startswith(("#", "lambdaops ")):
            lines.append(line.strip())
    return proc, lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run only the examples matching this regex")
    ap.add_argument("--list", action="store_true", help="print the examples and exit")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--port", type=int, default=4566,
                    help="where to serve the demo when 4566 is taken (the README's URLs are rewritten to it)")
    args = ap.parse_args()
    todo = [c for c in examples() if not args.only or re.search(args.only, c)]
    if args.list:
        print("\n".join(todo))
        return 0
    proc, shell = start_demo(args.port)
    todo = [c.replace("127.0.0.1:4566", f"127.0.0.1:{args.port}") for c in todo]
    bad = 0
    try:
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "bin").mkdir()
            # `lambdaops` as installed by `pip install -e .`: this checkout's entry point
            launcher = Path(scratch) / "bin" / "lambdaops"
            launcher.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} "
                                "-m lambdaops.cli.main \"$@\"\n")
            launcher.chmod(0o755)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDAOPS_"))}
            env.update(PATH=f"{scratch}/bin:{env.get('PATH', '')}", AWS_EC2_METADATA_DISABLED="true",
                       XDG_CONFIG_HOME=f"{scratch}/config", XDG_STATE_HOME=f"{scratch}/state",
                       XDG_CACHE_HOME=f"{scratch}/cache", AWS_CONFIG_FILE=f"{scratch}/aws-config",
                       AWS_SHARED_CREDENTIALS_FILE=f"{scratch}/aws-credentials")
            prelude = "shopt -s expand_aliases\n" + "\n".join(shell) + "\n"
            for cmd in todo:
                want, why = ({0}, "")
                for rx, (codes, reason) in EXPECT.items():
                    if re.search(rx, cmd):
                        want, why = codes, reason
                t0 = time.time()
                try:
                    res = subprocess.run(["bash", "-c", prelude + cmd], cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                         capture_output=True, text=True, timeout=args.timeout)
                    code, err = res.returncode, res.stderr.strip().splitlines()
                except subprocess.TimeoutExpired:
                    code, err = -1, ["timed out"]
                ok = code in want
                bad += not ok
                note = f"  ({why})" if why else ""
                last = "" if ok else f"\n      {err[-1] if err else ''}"
                print(f"{'ok  ' if ok else 'FAIL'} {code:3d} {time.time() - t0:5.1f}s  {cmd}{note}{last}", flush=True)
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"{len(todo) - bad} of {len(todo)} examples as documented")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
