"""The import contract of the package, read from the source with ``ast`` (no import is executed).

Every ``import`` counts, also the ones inside functions: a lazy import is still a dependency. The
layers (README, "How the code is laid out"):

- ``aws/`` makes the AWS calls and imports none of the layers built on it (analysis, collect, dlq,
  tuning, cli, tui) nor the demo;
- the pure modules (``analysis/``, ``models.py``, ``pricing.py``, ``window.py``...) do no I/O;
- boto3/botocore only under ``aws/`` and ``demo/``; textual only under ``tui/``;
- outside ``demo/``, only the demo entry points import it, and only through ``lambdaops.demo.launch``;
- screens and widgets never import ``aws/`` (they ask the session or a ``tui`` source module);
- no cycle between packages (e.g. ``tui`` -> ``cli`` -> ``tui``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "lambdaops"

# The one module through which the product starts the demo account, and the entry points allowed to
# import it: `lambdaops demo serve`, the CLI's `--demo` (CliState) and the TUI's `--demo` launcher.
DEMO_ENTRY = "lambdaops.demo.launch"
DEMO_ENTRY_POINTS = {"lambdaops.cli.demo_cmd", "lambdaops.cli.entry", "lambdaops.cli.state", "lambdaops.tui.launch"}

# Layers that sit on top of aws/: aws/ must never reach up into them.
ABOVE_AWS = ("analysis", "collect", "dlq", "tuning", "cli", "tui", "demo")

# Pure modules: computations on values, no I/O. A package name covers its submodules.
PURE = ("lambdaops.analysis", "lambdaops.models", "lambdaops.pricing", "lambdaops.durations",
        "lambdaops.safe_text", "lambdaops.report_line", "lambdaops.window")
IO_MODULES = ("boto3", "botocore", "socket", "subprocess", "urllib", "http", "requests", "shutil",
              "lambdaops.aws", "lambdaops.demo", "lambdaops.collect", "lambdaops.cli", "lambdaops.tui")
IO_CALLS = {"open"}
IO_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "mkdir", "unlink", "urlopen"}

# Known violations in files other branches are moving right now (issue 14): each entry is
# (importer, imported) and is deleted once that move is merged. Keep this list short.
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the file
    target: str  # dotted name imported (module, or module.attribute for `from x import y`)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, tree: ast.Module, is_package: bool) -> list[Import]:
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(name, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                pkg = name.split(".") if is_package else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            found += [Import(name, f"{base}.{a.name}" if a.name != "*" else base, node.lineno) for a in node.names]
    return found


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    out: list[Import] = []
    for name, tree in modules().items():
        is_package = (PKG.parent / Path(*name.split(".")) / "__init__.py").exists()
        out += imports_of(name, tree, is_package)
    return out


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def report(bad: list[Import]) -> str:
    return "\n".join(f"  {i.importer}:{i.line} imports {i.target}" for i in bad)


def violations(graph: list[Import], importer_in, target_in) -> list[Import]:
    return [i for i in graph if importer_in(i.importer) and target_in(i.target)
            and (i.importer, i.target) not in ALLOWED]


def test_the_package_is_parsed(graph):
    # A contract over nothing passes for the wrong reason.
    names = {i.importer for i in graph}
    assert {"lambdaops.aws.context", "lambdaops.cli.main", "lambdaops.tui.app", "lambdaops.demo.server"} <= names


def test_aws_does_not_import_the_layers_above_it(graph):
    bad = violations(graph, lambda m: under(m, "lambdaops.aws"),
                     lambda t: any(under(t, f"lambdaops.{layer}") for layer in ABOVE_AWS))
    assert not bad, "aws/ reaches up:\n" + report(bad)


def test_pure_modules_do_no_io(graph):
    bad = violations(graph, lambda m: any(under(m, p) for p in PURE),
                     lambda t: any(under(t, io) for io in IO_MODULES))
    assert not bad, "pure modules import I/O:\n" + report(bad)
    calls = []
    for name, tree in modules().items():
        if not any(under(name, p) for p in PURE):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if (isinstance(f, ast.Name) and f.id in IO_CALLS) or \
                        (isinstance(f, ast.Attribute) and f.attr in IO_METHODS):
                    calls.append(f"  {name}:{node.lineno} calls {ast.unparse(f)}()")
    assert not calls, "pure modules do I/O:\n" + "\n".join(calls)


def test_boto3_only_under_aws_and_demo(graph):
    bad = violations(graph, lambda m: not (under(m, "lambdaops.aws") or under(m, "lambdaops.demo")),
                     lambda t: under(t, "boto3") or under(t, "botocore"))
    assert not bad, "boto3/botocore outside aws/ and demo/:\n" + report(bad)


def test_textual_only_under_tui(graph):
    bad = violations(graph, lambda m: not under(m, "lambdaops.tui"), lambda t: under(t, "textual"))
    assert not bad, "textual outside tui/:\n" + report(bad)


def test_only_the_demo_entry_points_import_the_demo_through_one_module(graph):
    outside = [i for i in graph if not under(i.importer, "lambdaops.demo") and under(i.target, "lambdaops.demo")
               and (i.importer, i.target) not in ALLOWED]
    bad = [i for i in outside if i.importer not in DEMO_ENTRY_POINTS or not under(i.target, DEMO_ENTRY)]
    assert not bad, f"the demo is reached only through {DEMO_ENTRY} from {sorted(DEMO_ENTRY_POINTS)}:\n" + report(bad)


def test_the_demo_entry_module_exists():
    # Otherwise the rule above would hold for an entry that cannot be imported at all.
    assert (PKG / "demo" / "launch.py").exists()


def test_screens_and_widgets_never_import_aws(graph):
    bad = violations(graph, lambda m: under(m, "lambdaops.tui.screens") or under(m, "lambdaops.tui.widgets"),
                     lambda t: under(t, "lambdaops.aws") or under(t, "boto3") or under(t, "botocore"))
    assert not bad, "screens/widgets import aws/:\n" + report(bad)


def package_of(name: str) -> str:
    """``lambdaops.tui.screens.dlq`` -> ``tui``; a top-level module is its own node."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_cycle_between_packages(graph):
    edges: dict[str, set[str]] = {}
    where: dict[tuple[str, str], Import] = {}
    for i in graph:
        if not under(i.target, "lambdaops") or (i.importer, i.target) in ALLOWED:
            continue
        a, b = package_of(i.importer), package_of(i.target)
        if a != b:
            edges.setdefault(a, set()).add(b)
            where.setdefault((a, b), i)
    cycles = []
    for a in edges:
        for b in edges[a]:
            if a in reachable(edges, b):  # every edge on a cycle is listed, with one import behind it
                cycles.append(f"  {a} -> {b} -> ... -> {a}: {where[(a, b)].importer} imports {where[(a, b)].target}")
    assert not cycles, "package cycles:\n" + "\n".join(sorted(cycles))


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_checker_resolves_relative_and_lazy_imports():
    # A lazy, relative import from a screen is seen as the aws/ import it is.
    tree = ast.parse("def f():\n    from ...aws import tuning\n    import boto3\n")
    found = imports_of("lambdaops.tui.screens.x", tree, is_package=False)
    assert [i.target for i in found] == ["lambdaops.aws.tuning", "boto3"]
    assert len(violations(found, lambda m: under(m, "lambdaops.tui.screens"), lambda t: under(t, "lambdaops.aws"))) == 1


def test_xdg_variables_are_read_in_one_module():
    # Cache, state, data and config directories come from lambdaops/paths.py only; a second reader
    # would drift from it (the spec's rule on relative paths, the defaults).
    readers = []
    for name, tree in modules().items():
        if name == "lambdaops.paths":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("XDG_"):
                readers.append(f"  {name}:{node.lineno} {node.value}")
    assert not readers, "XDG variables read outside lambdaops/paths.py:\n" + "\n".join(readers)


def test_the_demo_entry_module_loads_no_moto():
    # The TUI's launcher imports it before the first frame: the account's weight belongs to the child.
    import subprocess
    import sys

    code = "import sys, lambdaops.demo.launch, lambdaops.tui.launch; print(sorted(m for m in sys.modules " \
           "if m.split('.')[0] in ('moto', 'boto3', 'botocore', 'lambdaops') and not m.startswith('lambdaops.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "['lambdaops']", out.stdout
