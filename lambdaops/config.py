"""Effective settings and where each came from.

Precedence, highest first: command-line flags > ``LAMBDAOPS_*`` environment > the config file >
AWS's own settings (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's region) >
built-in defaults. The file is TOML at ``$XDG_CONFIG_HOME/lambdaops/config.toml`` (or
``~/.config/lambdaops/config.toml``; ``LAMBDAOPS_CONFIG`` names another file). A ``[profiles.NAME]``
table overrides the top level when that profile is in use, so that write mode can be on for a
sandbox account and off for production.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from lambdaops.errors import ConfigError
from lambdaops.window import parse_duration
from lambdaops.paths import config_dir

DEFAULTS: dict[str, Any] = {
    "profile": None,
    "regions": [],
    "window": "3h",
    "refresh": 60,
    "write": False,
    "insights_concurrency": 10,
    "thresholds": {},
}
REFRESH_FLOOR_S = 15
_ENV = {
    "profile": "LAMBDAOPS_PROFILE",
    "regions": "LAMBDAOPS_REGIONS",
    "window": "LAMBDAOPS_WINDOW",
    "refresh": "LAMBDAOPS_REFRESH",
    "write": "LAMBDAOPS_WRITE",
    "insights_concurrency": "LAMBDAOPS_INSIGHTS_CONCURRENCY",
}


def split_regions(values: list[str] | str | None) -> list[str]:
    """Accept repeated and comma-separated regions; keep order, drop duplicates."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        for part in str(v).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("LAMBDAOPS_CONFIG"):
        return Path(env["LAMBDAOPS_CONFIG"]).expanduser()
    return config_dir(env) / "config.toml"


def load_config_file(path: Path) -> dict[str, Any]:
    """Read the TOML file; a missing file is an empty config, a malformed one a one-line error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line N, column M)".
        raise ConfigError(f"config file {path}: {exc}") from exc
    _validate(data, path, text=raw.decode("utf-8"))
    return data


_TYPES: dict[str, tuple[type, ...]] = {
    "profile": (str,),
    "regions": (list, str),
    "window": (str,),
    "refresh": (int,),
    "write": (bool,),
    "insights_concurrency": (int,),
    "thresholds": (dict,),
    "profiles": (dict,),
}


def _line_of(text: str, key: str) -> str:
    """' (line N)' where ``key = ...`` first appears, so semantic errors point at a line too."""
    rx = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE)
    m = rx.search(text)
    return f" (line {text.count(chr(10), 0, m.start()) + 1})" if m else ""


def _validate(data: dict[str, Any], path: Path, where: str = "", text: str = "") -> None:
    for key, value in data.items():
        at = _line_of(text, key)
        if key not in _TYPES:
            raise ConfigError(f"config file {path}{at}: unknown setting '{where}{key}'"
                              f" (known: {', '.join(sorted(_TYPES))})")
        if not isinstance(value, _TYPES[key]) or (isinstance(value, bool) and bool not in _TYPES[key]):
            raise ConfigError(f"config file {path}{at}: {where}{key} has the wrong type ({type(value).__name__})")
        if key == "profiles":
            if where:
                raise ConfigError(f"config file {path}: profiles cannot be nested")
            for name, table in value.items():
                if not isinstance(table, dict):
                    raise ConfigError(f"config file {path}: profiles.{name} must be a table")
                _validate(table, path, f"profiles.{name}.", text)
        if key == "window":
            try:
                parse_duration(value)
            except ValueError as exc:
                raise ConfigError(f"config file {path}{at}: {where}window: {exc}") from exc


@dataclass
class Setting:
    value: Any
    source: str


@dataclass
class Settings:
    """Effective settings; ``sources`` says where each came from (shown by ``lambdaops config``)."""

    values: dict[str, Setting] = field(default_factory=dict)
    config_file: Path | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name].value
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self.values[name].source

    def as_rows(self) -> list[dict[str, Any]]:
        rows = []
        for name, s in self.values.items():
            value = s.value
            if isinstance(value, list):
                value = ",".join(map(str, value))
            elif isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items()) or "(defaults)"
            rows.append({"setting": name, "value": "" if value is None else value, "source": s.source})
        return rows


def _env_value(key: str, raw: str) -> Any:
    if key == "regions":
        return split_regions(raw)
    if key in ("refresh", "insights_concurrency"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{_ENV[key]}={raw!r} is not a whole number") from None
    if key == "write":
        low = raw.strip().lower()
        if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"{_ENV[key]}={raw!r} is not true or false")
        return low in ("1", "true", "yes", "on")
    if key == "window":
        try:
            parse_duration(raw)
        except ValueError as exc:
            raise ConfigError(f"{_ENV[key]}: {exc}") from None
    return raw


def resolve_settings(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                     *, read_file: bool = True) -> Settings:
    """Merge CLI > LAMBDAOPS_* env > config file (profile table over top level) > AWS env > defaults.

    Region and profile fall back to AWS's own environment here; the profile's configured region
    (from ~/.aws/config) is applied later by the AWS context, which is the only layer that reads it.
    """
    cli = {k: v for k, v in (cli or {}).items() if v not in (None, [], ())}
    env = os.environ if env is None else env
    path = config_path(env)
    if read_file and env.get("LAMBDAOPS_CONFIG") and not path.exists():
        # botocore ignores a missing AWS_CONFIG_FILE; a file named on purpose that is not there is a
        # typo the user must hear about: 253, "the system environment or configuration was invalid"
        # (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html).
        raise ConfigError(f"LAMBDAOPS_CONFIG names {path}, which does not exist")
    data = load_config_file(path) if read_file else {}
    settings = Settings(config_file=path if data else None)

    def pick(key: str, profile: str | None) -> Setting:
        if key in cli:
            return Setting(cli[key], "command line")
        if _ENV.get(key) and env.get(_ENV[key]):
            return Setting(_env_value(key, env[_ENV[key]]), f"env {_ENV[key]}")
        prof_table = (data.get("profiles") or {}).get(profile or "", {}) if profile else {}
        if key in prof_table:
            return Setting(_file_value(key, prof_table[key]), f"{path} [profiles.{profile}]")
        if key in data:
            return Setting(_file_value(key, data[key]), str(path))
        return Setting(DEFAULTS[key], "default")

    prof = pick("profile", None)
    if prof.value is None and env.get("AWS_PROFILE"):
        prof = Setting(env["AWS_PROFILE"], "env AWS_PROFILE")
    settings.values["profile"] = prof
    for key in ("regions", "window", "refresh", "write", "insights_concurrency", "thresholds"):
        settings.values[key] = pick(key, prof.value)
    regions = settings.values["regions"]
    if not regions.value:
        for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if env.get(var):
                settings.values["regions"] = Setting(split_regions(env[var]), f"env {var}")
                break
    refresh = settings.values["refresh"]
    if refresh.value < REFRESH_FLOOR_S:
        settings.values["refresh"] = Setting(REFRESH_FLOOR_S, f"{refresh.source} (raised to the {REFRESH_FLOOR_S}s floor)")
    return settings


def _file_value(key: str, value: Any) -> Any:
    return split_regions(value) if key == "regions" else value
