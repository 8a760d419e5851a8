"""Where lambdaops keeps files on the user's machine: the one place that reads the XDG variables.

Following the XDG Base Directory Specification (specifications.freedesktop.org/basedir-spec):
each base comes from its variable when that is set to an absolute path, else from the spec's
default under the home directory; "if an implementation encounters a relative path in any of these
variables it should consider the path invalid and ignore it". Every directory is ``<base>/lambdaops``.
Nothing is created here: writers create what they need, with the modes they need.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

APP = "lambdaops"


def _base(var: str, default: tuple[str, ...], env: Mapping[str, str] | None) -> Path:
    env = os.environ if env is None else env
    value = env.get(var) or ""
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home().joinpath(*default)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/lambdaops`` (default ``~/.config/lambdaops``): the config file."""
    return _base("XDG_CONFIG_HOME", (".config",), env) / APP


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/lambdaops`` (default ``~/.cache/lambdaops``): what can be fetched again."""
    return _base("XDG_CACHE_HOME", (".cache",), env) / APP


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/lambdaops`` (default ``~/.local/state/lambdaops``): what must survive a
    restart but is not worth backing up (redrive journals and their audit log)."""
    return _base("XDG_STATE_HOME", (".local", "state"), env) / APP


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/lambdaops`` (default ``~/.local/share/lambdaops``): user data files."""
    return _base("XDG_DATA_HOME", (".local", "share"), env) / APP
