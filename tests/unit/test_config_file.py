"""The configuration file every process reads: where it is (as platformdirs says), what wins
(environment, then file, then defaults), and `recall config` editing it in place."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import platformdirs
import pytest
from click.testing import CliRunner

from contextrecall import config_file
from contextrecall.cli import cli
from contextrecall.settings import Settings, config_path, get_settings, parse_config


@pytest.mark.skipif(sys.platform not in ("linux", "darwin"), reason="POSIX platforms")
@pytest.mark.parametrize("xdg", [None, "", "/somewhere/config"])
def test_the_file_is_where_platformdirs_puts_user_configuration(tmp_path, monkeypatch, xdg):
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    env = {"HOME": str(tmp_path)} | ({} if xdg is None else {"XDG_CONFIG_HOME": xdg})
    expected = Path(platformdirs.user_config_dir("contextrecall")) / "config.env"
    assert config_path(env) == str(expected)


def test_recall_config_names_another_file_and_no_home_means_no_file(tmp_path):
    assert config_path({"RECALL_CONFIG": str(tmp_path / "x.env")}) == str(tmp_path / "x.env")
    assert config_path({}) is None


def test_the_environment_overrides_the_file_which_overrides_the_defaults(tmp_path):
    path = tmp_path / "config.env"
    path.write_text(
        "\ufeff# a comment\n\n"
        f"RECALL_HOME={tmp_path / 'state'}\n"
        'RECALL_BROKER_URL="redis://broker:6379/2"\n'
        "export RECALL_VISIBILITY_TIMEOUT=120\n"
        "RECALL_CACHE_URL=redis://file-cache/1\n",
        encoding="utf-8",
    )
    env = {"RECALL_CONFIG": str(path), "RECALL_CACHE_URL": "redis://env-cache/3"}
    settings = Settings.from_env(env)
    assert settings.home == tmp_path / "state"
    assert settings.broker_url == "redis://broker:6379/2"
    assert settings.visibility_timeout == 120
    assert settings.cache_url == "redis://env-cache/3"
    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'recall.db'}"
    assert settings.decay_batch == 10000  # neither: the default


def test_a_missing_file_is_no_configuration(tmp_path):
    env = {"RECALL_CONFIG": str(tmp_path / "absent.env"), "HOME": str(tmp_path)}
    settings = Settings.from_env(env)
    assert settings.home == tmp_path / ".local" / "share" / "contextrecall"


def test_parse_skips_comments_and_strips_matching_quotes():
    text = "# x=1\nA=1\nB = 'two words'\nC=\"\"\nnot a line\nD=a=b\n"
    assert parse_config(text) == {"A": "1", "B": "two words", "C": "", "D": "a=b"}


def test_writing_keeps_other_lines_checks_values_and_is_private(tmp_path):
    path = tmp_path / "conf" / "config.env"
    config_file.write_values(path, {"RECALL_CACHE_URL": "redis://a/1"})
    with path.open("a") as handle:
        handle.write("# mine\nRECALL_DECAY_BATCH=5\n")
    config_file.write_values(path, {"RECALL_CACHE_URL": "redis://b/2", "RECALL_DECAY_BATCH": None})
    text = path.read_text()
    assert "# mine" in text and "RECALL_DECAY_BATCH" not in text
    assert config_file.read_values(path) == {"RECALL_CACHE_URL": "redis://b/2"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="RECALL_DECAY_BATCH: expected a whole number"):
        config_file.write_values(path, {"RECALL_DECAY_BATCH": "many"})
    with pytest.raises(ValueError, match="unknown setting"):
        config_file.field_named("RECALL_NOPE")
    assert config_file.field_named("cache_url").env == "RECALL_CACHE_URL"


def invoke(args: list[str], env: dict[str, str]):
    """`recall ARGS` in this process, its settings read afresh from ``env``."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, env=env)
    finally:
        get_settings.cache_clear()


def test_recall_config_sets_shows_and_unsets(tmp_path):
    env = {"RECALL_CONFIG": str(tmp_path / "c.env"), "RECALL_CACHE_URL": ""}
    done = invoke(["config", "set", "database_url", "sqlite:///x.db"], env)
    assert done.exit_code == 0, done.output
    shown = invoke(["config"], env)
    line = next(row for row in shown.output.splitlines() if "RECALL_DATABASE_URL" in row)
    assert "file" in line and "sqlite:///x.db" in line
    bad = invoke(["config", "set", "RECALL_VISIBILITY_TIMEOUT", "soon"], env)
    assert bad.exit_code == 2 and "expected a whole number" in bad.output
    gone = invoke(["config", "unset", "RECALL_DATABASE_URL"], env)
    assert gone.exit_code == 0 and "removed" in gone.output
    assert config_file.read_values(tmp_path / "c.env") == {}


def test_secrets_are_not_shown(tmp_path):
    env = {"RECALL_CONFIG": str(tmp_path / "c.env"), "RECALL_ENCRYPTION_KEY": "c2VjcmV0"}
    shown = invoke(["config"], env)
    assert "c2VjcmV0" not in shown.output and "********" in shown.output
