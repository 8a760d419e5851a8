"""lambdaops/paths.py: the XDG base directories, as the XDG Base Directory Specification says."""

from __future__ import annotations

from pathlib import Path

from lambdaops import paths


def test_absolute_variables_are_used():
    env = {"XDG_CONFIG_HOME": "/x/c", "XDG_CACHE_HOME": "/x/k", "XDG_STATE_HOME": "/x/s", "XDG_DATA_HOME": "/x/d"}
    assert paths.config_dir(env) == Path("/x/c/lambdaops")
    assert paths.cache_dir(env) == Path("/x/k/lambdaops")
    assert paths.state_dir(env) == Path("/x/s/lambdaops")
    assert paths.data_dir(env) == Path("/x/d/lambdaops")


def test_unset_empty_or_relative_variables_fall_back_to_the_spec_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    for env in ({}, {"XDG_CACHE_HOME": ""}, {"XDG_CACHE_HOME": "rel/cache", "XDG_STATE_HOME": "./s",
                                                  "XDG_CONFIG_HOME": "c", "XDG_DATA_HOME": "d"}):
        assert paths.cache_dir(env) == tmp_path / ".cache" / "lambdaops"
        assert paths.state_dir(env) == tmp_path / ".local" / "state" / "lambdaops"
        assert paths.config_dir(env) == tmp_path / ".config" / "lambdaops"
        assert paths.data_dir(env) == tmp_path / ".local" / "share" / "lambdaops"


def test_the_product_uses_them(monkeypatch, tmp_path):
    from lambdaops.aws.inventory import default_cache_dir
    from lambdaops.dlq.journal import default_journal_dir
    from lambdaops.config import config_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "k"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.delenv("LAMBDAOPS_CONFIG", raising=False)
    assert default_cache_dir() == tmp_path / "k" / "lambdaops"
    assert default_journal_dir() == tmp_path / "s" / "lambdaops" / "redrive"
    assert config_path() == tmp_path / "c" / "lambdaops" / "config.toml"
    monkeypatch.setenv("XDG_STATE_HOME", "relative")  # ignored, as the spec asks
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_journal_dir() == tmp_path / "home" / ".local" / "state" / "lambdaops" / "redrive"
