"""Render the demo's HTML report and take a screenshot of it in headless Chromium.

    /work/venv/bin/python scripts/html_report_shot.py [--out report.png] [--width 1600] [--compare-previous]

What cron mails is the HTML report; this is how to look at it as a mail client would show it (layout,
wrapping, bar labels) without a desktop. Needs ``chromium`` (Debian: ``apt-get install chromium``).
Writes the HTML next to the PNG. The structure itself is tested without a browser
(tests/e2e/cli/test_report_formats.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("html_report_shot: no chromium found (apt-get install chromium)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("report.png"))
    ap.add_argument("--width", type=int, default=1600)
    ap.add_argument("--height", type=int, default=1400)
    ap.add_argument("--since", default="3h")
    ap.add_argument("--compare-previous", action="store_true")
    args = ap.parse_args()
    out = args.out.resolve()
    html_path = out.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    html_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "lambdaops.cli.main", "--demo", "report", "--since", args.since, "-o", "html",
           "--out", str(html_path)]
    if args.compare_previous:
        cmd.append("--compare-previous")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    if rc not in (0, 1):  # 1: findings at --fail-on, not used here
        return rc
    with tempfile.TemporaryDirectory() as profile:
        shot = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               f"--user-data-dir={profile}", f"--window-size={args.width},{args.height}",
                               f"--screenshot={out}", html_path.as_uri()],
                              capture_output=True, text=True, timeout=120)
    if shot.returncode != 0 or not out.exists():
        print(shot.stderr[-2000:], file=sys.stderr)
        return shot.returncode or 1
    print(f"{out} ({html_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
