"""The ``lambdaops`` command: global options, subcommands, and the one place errors become exit codes.

Global options (``--profile --region --endpoint-url --demo --output/-o --debug --write``) are accepted
before or after the subcommand name, as the AWS CLI does: :func:`hoist_globals` moves them in front
of the subcommand before Click parses.
"""

from __future__ import annotations

import sys

from lambdaops.cli.entry import hoist_globals, start_early_demo, take_early_demo

if __name__ == "__main__":  # ``python -m lambdaops.cli.main``: as the entry point does, before Typer
    start_early_demo(sys.argv[1:])

import logging  # noqa: E402 - after the demo's early start, on purpose
import os  # noqa: E402
import traceback  # noqa: E402
from typing import Optional  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from lambdaops import __version__  # noqa: E402
from lambdaops.cli.help import dress  # noqa: E402
from lambdaops.cli.state import CliState  # noqa: E402
from lambdaops.errors import EXIT_INTERRUPTED, EXIT_OTHER, EXIT_USAGE, LambdaopsError  # noqa: E402
from lambdaops.safe_text import safe_text  # noqa: E402

try:  # Typer >= 0.29 vendors Click; its exception classes are the ones raised.
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older Typer on real Click
    from click import exceptions as click_exc


def _debug_requested(args: list[str]) -> bool:
    return "--debug" in args


class LambdaopsGroup(TyperGroup):
    """Turns every failure into one line on stderr and an AWS-CLI-like exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        args = hoist_globals(args)
        debug = _debug_requested(args)
        dress(self)  # AWS-CLI-like placeholders and an example per command
        try:
            self.main_inner(args, prog_name or "lambdaops", complete_var, **extra)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            print("lambdaops: interrupted", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        except click_exc.ClickException as exc:
            hint = ""
            if isinstance(exc, click_exc.UsageError) and exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            print(f"lambdaops: {safe_text(exc.format_message(), None)}{hint}", file=sys.stderr)
            sys.exit(EXIT_USAGE if isinstance(exc, click_exc.UsageError) else exc.exit_code)
        except LambdaopsError as exc:
            if debug:
                traceback.print_exc()
            # AWS's own error messages and names end up here: inert on the terminal
            print(f"lambdaops: {safe_text(exc.one_line(), None)}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            print("\nlambdaops: interrupted", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            sys.exit(0)
        except Exception as exc:  # a bug: one line unless asked for the traceback
            if debug:
                traceback.print_exc()
                sys.exit(EXIT_OTHER)
            print(f"lambdaops: internal error: {type(exc).__name__}: {safe_text(str(exc), 500)} "
                  "(run with --debug for details)",
                  file=sys.stderr)
            sys.exit(EXIT_OTHER)
        sys.exit(0)

    def get_params(self, ctx):
        params = super().get_params(ctx)  # the root's options and its --help
        take_as_given(params)
        return params

    def main_inner(self, args, prog_name, complete_var, **extra):
        # Shell completion still works: Click handles the _LAMBDAOPS_COMPLETE variable here.
        self._main_shell_completion(extra, prog_name, complete_var)
        with self.make_context(prog_name, args, **extra) as ctx:
            try:
                self.invoke(ctx)
            finally:
                state = ctx.obj
                if isinstance(state, CliState):
                    state.close()


def take_as_given(params) -> None:
    """The global options' values as Click parsed them. Typer (0.29) coerces every option value,
    even an absent one, through a pydantic TypeAdapter: importing pydantic and building the adapters
    is about a third of the CPU the CLI spends before the TUI's first frame. These options are
    text, lists of text and flags, which Click already gives in those types; a subcommand's options
    keep Typer's coercion. Should Typer's internals differ, its own coercion stays."""
    try:
        from dataclasses import dataclass

        from typer._coercion import RuntimeParam
    except ImportError:  # pragma: no cover - another Typer
        return

    @dataclass(frozen=True)
    class AsGiven(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            return list(value) if isinstance(value, tuple) else value

    for param in params:
        desc = getattr(param, "type_descriptor", None)
        if desc is None or getattr(param, "_runtime_param", False) is not None:
            continue
        if desc.annotation in (str, bool, list[str]):
            try:
                param._runtime_param = AsGiven(parameter_info=desc.parameter_info, annotation=desc.annotation)
            except TypeError:  # pragma: no cover - another RuntimeParam
                return


def _version(value: bool) -> None:
    if value:
        print(f"lambdaops {__version__}")
        raise typer.Exit()


HELP = """Terminal-first observability and operations for AWS Lambda fleets.

With no command, opens the interactive TUI over the selected regions.

\b
Settings precedence: command line > LAMBDAOPS_* environment > config file
($XDG_CONFIG_HOME/lambdaops/config.toml, or LAMBDAOPS_CONFIG) > AWS settings
(AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, the profile's region).
`lambdaops config` shows the effective settings and where each came from.

\b
Exit codes: 0 ok; 1 report findings at --fail-on, dlq redrive left
messages in the DLQ, or a confirmation answered no; 2 usage; 130
interrupted; 253 credentials/config; 254 AWS service error (report: also
when nothing could be collected; with --strict: anything missing); 255 other.
"""

app = typer.Typer(cls=LambdaopsGroup, help=HELP, no_args_is_help=False, add_completion=True,
                  rich_markup_mode=None, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    profile: Optional[str] = typer.Option(None, "--profile", help="AWS profile (else LAMBDAOPS_PROFILE, config, AWS_PROFILE)."),
    region: Optional[list[str]] = typer.Option(None, "--region", help="Region; repeatable and comma-separated for several."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="Send AWS calls to this endpoint (e.g. `lambdaops demo serve`)."),
    demo: bool = typer.Option(False, "--demo", help="Run against a fresh demo account in a child process (no credentials needed)."),
    no_demo_cache: bool = typer.Option(False, "--no-demo-cache", help="Seed the demo account anew instead of loading it from the cache (also LAMBDAOPS_DEMO_CACHE=0)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="table | json | csv | markdown (report: also html)."),
    debug: bool = typer.Option(False, "--debug", help="Log every AWS call and show full tracebacks."),
    write: Optional[bool] = typer.Option(None, "--write/--read-only", help="Allow actions that change AWS (TUI). Read-only by default."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the local store and cache: fetch everything again."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    from lambdaops.cli.validate import check_globals
    from lambdaops.config import split_regions

    check_globals(demo=demo, endpoint_url=endpoint_url, regions=split_regions(region))
    if no_demo_cache:  # the environment, so that the TUI's demo process and `demo serve` see it too
        os.environ["LAMBDAOPS_DEMO_CACHE"] = "0"
    # botocore logs refresh failures as WARNINGs with tracebacks; the error that follows says it in one line.
    logging.getLogger("botocore").setLevel(logging.WARNING if debug else logging.CRITICAL)

    ctx.obj = CliState(profile=profile, regions=split_regions(region), endpoint_url=endpoint_url,
                       demo=demo, output=output, debug=debug, write=write, no_cache=no_cache)
    if ctx.invoked_subcommand is None:
        from lambdaops.tui.launch import run_tui

        run_tui(ctx.obj, demo=take_early_demo() if demo else None)


def _register() -> None:
    from lambdaops.cli import cache_cmd, config_cmd, demo_cmd, dlq_cmd, functions_cmd, logs_cmd, query_cmd, report_cmd, tune_cmd

    functions_cmd.register(app)
    report_cmd.register(app)
    query_cmd.register(app)
    tune_cmd.register(app)
    logs_cmd.register(app)
    config_cmd.register(app)
    cache_cmd.register(app)
    app.add_typer(demo_cmd.demo_app, name="demo")
    app.add_typer(dlq_cmd.dlq_app, name="dlq")


_register()


def main() -> None:
    app(prog_name="lambdaops")


if __name__ == "__main__":  # pragma: no cover
    from lambdaops.cli.entry import run

    run(main)
