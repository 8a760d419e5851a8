"""The entry point starts a `--demo` command's account before the command's imports (issue 18), and
only for what will take it: the TUI its early account, a command its one-shot account, nothing else."""

from __future__ import annotations

from lambdaops.cli import entry


def test_one_shot_demo_commands_are_told_from_argv():
    yes = (["--demo", "report", "-o", "json"], ["report", "--demo"], ["--region", "eu-west-1", "--demo", "dlq", "list"],
           ["--demo", "functions", "--functions", "checkout-api"])
    no = (["--demo"], ["report"], ["--demo", "report", "--help"], ["--demo", "demo", "serve"],
          ["--demo", "--endpoint-url", "http://127.0.0.1:1", "functions"], ["--region", "--demo", "report"],
          ["--demo", "cache", "info"], ["--demo", "-h", "dlq"])
    assert all(entry.one_shot_demo_command(a) for a in yes)
    assert not any(entry.one_shot_demo_command(a) for a in no)


def test_an_early_account_is_taken_only_by_its_kind_and_once(monkeypatch):
    started = []

    class FakeProcess:
        def __init__(self, one_shot=False):
            started.append(one_shot)

    monkeypatch.setattr("lambdaops.demo.launch.DemoProcess", FakeProcess)
    monkeypatch.setattr(entry, "_early_demo", None)
    entry.start_early_demo(["--demo", "report"])
    assert started == [True]
    assert entry.take_early_demo() is None  # the TUI does not take a command's account
    demo = entry.take_early_demo(one_shot=True)
    assert isinstance(demo, FakeProcess) and entry.take_early_demo(one_shot=True) is None
    entry.start_early_demo(["--demo", "--region", "xx"])  # the TUI
    entry.start_early_demo(["--demo", "report"])  # one at a time: the first stays
    assert started == [True, False] and entry.take_early_demo(one_shot=True) is None
    assert entry.take_early_demo() is not None
    entry.start_early_demo(["functions"])  # no --demo: nothing
    assert started == [True, False]
