from __future__ import annotations

import pytest

from lambdaops.config import resolve_settings, split_regions
from lambdaops.window import parse_duration
from lambdaops.errors import ConfigError


def test_parse_duration():
    assert parse_duration("90m") == 5400
    assert parse_duration("3h") == 10800
    assert parse_duration("1.5d") == 129600
    with pytest.raises(ValueError):
        parse_duration("3 hours")
    with pytest.raises(ValueError):
        parse_duration("0h")


def test_split_regions_repeatable_and_comma_separated():
    assert split_regions(["us-east-1,eu-west-1", "us-east-1", " ap-south-1 "]) == ["us-east-1", "eu-west-1", "ap-south-1"]


def test_precedence_cli_env_file_aws(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('regions = ["eu-west-1"]\nwindow = "6h"\nrefresh = 5\n')
    env = {"LAMBDAOPS_CONFIG": str(cfg), "AWS_REGION": "us-west-2", "LAMBDAOPS_WINDOW": "2h"}
    s = resolve_settings({}, env)
    assert s.regions == ["eu-west-1"] and s.source("regions") == str(cfg)
    assert s.window == "2h" and s.source("window") == "env LAMBDAOPS_WINDOW"
    assert s.refresh == 15 and "floor" in s.source("refresh")
    s = resolve_settings({"regions": ["ap-south-1"]}, env)
    assert s.regions == ["ap-south-1"] and s.source("regions") == "command line"
    cfg.write_text("")
    s = resolve_settings({}, env)
    assert s.regions == ["us-west-2"] and s.source("regions") == "env AWS_REGION"
    s = resolve_settings({}, {"LAMBDAOPS_CONFIG": str(cfg), "AWS_DEFAULT_REGION": "sa-east-1", "AWS_PROFILE": "p"})
    assert s.regions == ["sa-east-1"] and s.profile == "p" and s.source("profile") == "env AWS_PROFILE"


def test_profile_table_overrides_top_level(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('write = false\n[profiles.sandbox]\nwrite = true\nregions = "us-east-2"\n')
    env = {"LAMBDAOPS_CONFIG": str(cfg)}
    assert resolve_settings({"profile": "prod"}, env).write is False
    s = resolve_settings({"profile": "sandbox"}, env)
    assert s.write is True and s.regions == ["us-east-2"]


@pytest.mark.parametrize("text, needle", [
    ('regions = ["x"]\nwindow = \n', "line 2"),
    ("# c\nbogus = 1\n", "(line 2): unknown setting 'bogus'"),
    ('refresh = "often"\n', "(line 1): refresh has the wrong type"),
    ('window = "soon"\n', "not a duration"),
    ("[profiles.x]\nnope = 1\n", "profiles.x.nope"),
])
def test_bad_config_files(tmp_path, text, needle):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        resolve_settings({}, {"LAMBDAOPS_CONFIG": str(cfg)})
    assert needle in err.value.one_line() and str(cfg) in err.value.one_line()


def test_bad_env_values():
    with pytest.raises(ConfigError, match="LAMBDAOPS_REFRESH"):
        resolve_settings({}, {"LAMBDAOPS_REFRESH": "soon"})
    with pytest.raises(ConfigError, match="LAMBDAOPS_WRITE"):
        resolve_settings({}, {"LAMBDAOPS_WRITE": "maybe"})
