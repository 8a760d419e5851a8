"""The TUI's start-up path (issue 18): what is imported before the first frame, and the first paint's
rows as each region's listing answers. No app, no server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from lambdaops.models import FunctionInfo, Inventory, RegionError

ROOT = Path(__file__).resolve().parents[2]
# What the first frame does not need: the collection's pandas and numpy, the AWS SDK (the connect
# worker imports it once the frame is up), moto (the demo account is a child process).
HEAVY = ("pandas", "numpy", "boto3", "botocore", "moto", "lambdaops.collect.fleet", "lambdaops.analysis.fleet")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return out.stdout.split()


def test_the_first_frame_imports_no_collection_aws_or_demo_module_and_the_connection_warms_them_up():
    code = ("import sys, time; import lambdaops.cli.main, lambdaops.tui.launch, lambdaops.tui.app; "
            "print(' '.join(sorted(sys.modules))); from lambdaops.tui.reads import Reads; Reads(None).warm_up(); "
            "t = time.monotonic() + 60\n"
            "while 'lambdaops.collect.fleet' not in sys.modules and time.monotonic() < t: time.sleep(0.05)\n"
            "print('lambdaops.collect.fleet' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    at_frame, warmed = out.stdout.splitlines()
    heavy = [m for m in at_frame.split() if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [] and warmed == "True"


def test_the_sparklines_read_imports_no_pandas():
    """The sparklines are the first telemetry read, asked as soon as the functions are listed: they must
    not wait for the collection's imports (pandas, the analysis), which load on another thread then."""
    loaded = _loaded_after("import lambdaops.collect.sparklines")
    assert "lambdaops.collect.sparklines" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("pandas", "numpy") or m == "lambdaops.collect.fleet"] == []


def test_the_cli_imports_no_renderer_or_sdk_until_a_command_runs():
    # Every command and the TUI import lambdaops.cli.main first: its commands register without
    # their renderers (rich), the AWS SDK or the analysis.
    loaded = _loaded_after("import lambdaops.cli.main")
    assert [m for m in loaded if m.split(".")[0] in ("rich", "textual", "pydantic") + HEAVY] == []


def _fn(name: str, region: str) -> FunctionInfo:
    return FunctionInfo(name=name, region=region, arn=f"arn:aws:lambda:{region}:1:function:{name}",
                        runtime="python3.12", architecture="arm64", memory_mb=128, timeout_s=3, last_modified=None)


def test_the_inventory_shows_each_region_as_its_listing_answers(monkeypatch):
    import lambdaops.aws.inventory as inventory
    from lambdaops.tui.reads import Reads

    us_may_answer = threading.Event()

    def fleet_inventory(ctx, regions, opts):
        (region,) = regions  # one region per call: each answers on its own
        if region == "us-east-1":
            assert us_may_answer.wait(10)
            return Inventory([_fn("b", region), _fn("a", region)], [], {}, [region])
        return Inventory([], [RegionError(region, "AccessDenied", 254)], {}, [region],
                         detail_errors=[{"region": region}])

    monkeypatch.setattr(inventory, "fleet_inventory", fleet_inventory)
    ctx = SimpleNamespace(regions=["us-east-1", "eu-west-1"], require_regions=lambda: ["us-east-1", "eu-west-1"],
                          calls=SimpleNamespace(snapshot=lambda: {"lambda.ListFunctions": 2}))
    seen: list[Inventory] = []

    def on_region(part: Inventory) -> None:
        seen.append(part)
        us_may_answer.set()  # the slow region answers only once the fast one was shown

    inv = Reads(SimpleNamespace(ctx=ctx, cache_dir=None)).inventory(on_region=on_region)
    assert [(p.regions, [e.region for e in p.errors]) for p in seen] == [(["eu-west-1"], ["eu-west-1"])]
    assert inv.regions == ["us-east-1", "eu-west-1"]  # the watched regions' order, not the answers'
    assert [f.name for f in inv.functions] == ["b", "a"] and [e.region for e in inv.errors] == ["eu-west-1"]
    assert inv.detail_errors == [{"region": "eu-west-1"}] and inv.api_calls == {"lambda.ListFunctions": 2}


def test_only_the_demo_tui_starts_the_demo_before_the_cli_parses():
    from lambdaops.cli.entry import opens_demo_tui

    assert opens_demo_tui(["--demo"]) and opens_demo_tui(["--region", "eu-west-1", "--demo", "-o", "json"])
    assert not opens_demo_tui(["--demo", "report"]) and not opens_demo_tui(["report", "--demo"])
    assert not opens_demo_tui(["--demo", "--help"]) and not opens_demo_tui(["--demo", "--version"])
    assert not opens_demo_tui([]) and not opens_demo_tui(["--region", "--demo"])  # a value, not the flag


def test_the_entry_point_starts_the_demo_before_typer_and_the_tui_takes_that_one_without_pydantic():
    # In a fresh interpreter: here Typer and Textual are imported already.
    code = """
import sys
import lambdaops.demo.launch as demo_launch
import lambdaops.tui.launch as launch
class Child:
    def __init__(self, one_shot=False):
        import os
        print("child", sorted(m for m in ("typer", "textual", "boto3") if m in sys.modules),
              os.environ.get("LAMBDAOPS_DEMO_CACHE"))
launch.DemoProcess = demo_launch.DemoProcess = Child
launch.run_tui = lambda state, demo=None: print("tui", type(demo).__name__, state.demo, state.regions, state.output,
                                               state.write, "pydantic" in sys.modules)
sys.argv = ["lambdaops", "--no-demo-cache", "--demo", "--region", "us-east-1,eu-west-1", "--region", "ap-south-1",
            "-o", "json", "--read-only"]
from lambdaops.cli.entry import main
main()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={k: v for k, v in os.environ.items() if k != "LAMBDAOPS_DEMO_CACHE"})
    # The global options as given, without Typer's pydantic coercion (a third of the CLI's start).
    assert out.stdout.splitlines() == [
        "child [] 0", "tui Child True ['us-east-1', 'eu-west-1', 'ap-south-1'] json False False"], out.stderr
