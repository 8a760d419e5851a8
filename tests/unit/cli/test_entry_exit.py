"""The entry point leaves without the interpreter's shutdown (lambdaops.cli.entry.run): the exit code and
everything printed come out as with sys.exit, and a non-daemon thread still working is waited for."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _run(body: str) -> subprocess.CompletedProcess:
    code = f"import sys, threading, time\nfrom lambdaops.cli.entry import run\n{body}\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_the_exit_code_and_buffered_output_come_out():
    out = _run("def cmd():\n    print('answer', end='')\n    sys.stderr.write('note')\n    sys.exit(3)\nrun(cmd)")
    assert (out.returncode, out.stdout, out.stderr) == (3, "answer", "note")
    out = _run("run(lambda: print('x' * 100000))")  # more than a pipe's buffer
    assert out.returncode == 0 and out.stdout == "x" * 100000 + "\n"
    out = _run("run(lambda: sys.exit('bad input'))")
    assert (out.returncode, out.stderr) == (1, "bad input\n")


def test_a_thread_still_working_is_waited_for(tmp_path):
    done = tmp_path / "done"
    out = _run("def later():\n    time.sleep(0.3)\n    open(%r, 'w').write('ok')\n"
               "run(lambda: threading.Thread(target=later).start())" % str(done))
    assert out.returncode == 0 and done.read_text() == "ok"
