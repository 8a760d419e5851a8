"""What the root command resolved, shared by every subcommand and the TUI.

Built lazily: ``lambdaops --help`` must not touch AWS, and ``--demo`` starts the embedded account only
when a command actually needs AWS. The demo is reached only through its endpoint URL and static
dummy credentials, exactly like any other endpoint.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from lambdaops.config import Settings, resolve_settings
from lambdaops.errors import UsageError


@dataclass
class CliState:
    profile: str | None = None
    regions: list[str] = field(default_factory=list)
    endpoint_url: str | None = None
    demo: bool = False
    output: str | None = None
    debug: bool = False
    write: bool | None = None
    no_cache: bool = False  # --no-cache: every read goes to AWS, nothing is stored
    _settings: Settings | None = None
    _ctx: Any = None
    _demo: Any = None

    def settings(self) -> Settings:
        if self._settings is None:
            cli = {"profile": self.profile, "regions": self.regions, "write": self.write}
            settings = resolve_settings(cli)
            if not self.demo:  # the demo takes no profile, and its regions were checked as --region
                from lambdaops.cli.validate import check_profile, check_regions

                if settings.profile:
                    check_profile(settings.profile, settings.source("profile"))
                check_regions(settings.regions, settings.source("regions"))
            self._settings = settings
        return self._settings

    def output_format(self, allowed: tuple[str, ...] = ("table", "json", "csv", "markdown")) -> str:
        fmt = (self.output or "table").lower()
        if fmt not in allowed:
            raise UsageError(f"--output {fmt!r} is not one of: {', '.join(allowed)}")
        return fmt

    def start_demo(self):
        """Start the demo account once (``--demo``), in a child process (launch.DemoProcess, one shot:
        the account's CPU runs beside this process's, not under its GIL); released by :meth:`close`.
        Returns it with its ``endpoint`` and ``regions`` known."""
        if self._demo is None:
            from lambdaops.cli.entry import take_early_demo
            from lambdaops.demo.launch import DemoProcess

            if sys.stderr.isatty():
                print("lambdaops: starting the embedded demo account...", file=sys.stderr, flush=True)
            # started by the entry point before this command's imports, when it could tell from argv
            demo = take_early_demo(one_shot=True) or DemoProcess(one_shot=True)
            try:
                demo.wait()  # early: the inventory's reads answer while the traffic is loaded or built
            except BaseException:
                demo.stop()
                raise
            self._demo = demo
        return self._demo

    def aws(self):
        """The AwsContext for this invocation (credentials checked, regions resolved)."""
        if self._ctx is None:
            from lambdaops.aws.context import AwsContext, StaticCredentials
            from lambdaops.demo.launch import DEMO_CREDENTIALS

            settings = self.settings()
            if self.demo:
                demo = self.start_demo()
                self._ctx = AwsContext(
                    regions=self.regions or list(demo.regions), endpoint_url=demo.endpoint,
                    credentials=StaticCredentials(*DEMO_CREDENTIALS), debug=self.debug,
                    max_attempts=2,  # loopback: a failure is a bug in the demo, not a blip worth retrying
                )
            else:
                self._ctx = AwsContext(profile=settings.profile, regions=settings.regions,
                                       endpoint_url=self.endpoint_url, debug=self.debug)
                self._ctx.check_credentials()
            self._ctx.require_regions()
        return self._ctx

    def cache_dir(self):
        """On-disk cache and store, except in demo mode (which writes nothing outside a temp dir) and
        with --no-cache."""
        if self.demo or self.no_cache:
            return None
        from lambdaops.aws.inventory import default_cache_dir

        return default_cache_dir()

    def close(self) -> None:
        if self._demo is not None:
            self._demo.release()  # it writes the demo cache, if anything is new, after this process's answer
            self._demo = None
