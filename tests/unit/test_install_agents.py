"""`recall install --agent codex|gemini` on their files: hooks in Claude Code's shape, Codex's
MCP server as one marked block in config.toml, Gemini's in its settings.json; each taken out
again by uninstall, leaving the rest alone."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

from contextrecall.cli import cli
from contextrecall.install import codex

CONFIG = 'model = "o4"\n\n[mcp_servers.docs]\ncommand = "docs-server"\n'


def test_the_mcp_block_goes_in_once_and_out_cleanly():
    once = codex.with_mcp(CONFIG, "/venv/bin/recall")
    assert codex.with_mcp(once, "/venv/bin/recall") == once  # idempotent
    parsed = tomllib.loads(once)
    assert parsed["mcp_servers"]["context-recall"] == {
        "command": "/venv/bin/recall",
        "args": ["mcp"],
    }
    assert parsed["mcp_servers"]["docs"] == {"command": "docs-server"}
    moved = codex.with_mcp(once, "/other/recall")  # a new path replaces ours
    assert moved.count(codex.BEGIN) == 1 and "/other/recall" in moved
    assert codex.without_mcp(once) == CONFIG
    assert codex.without_mcp(codex.with_mcp("", None)) == ""


def test_a_server_of_that_name_not_ours_or_a_broken_file_is_refused():
    with pytest.raises(ValueError, match=r"already has an \[mcp_servers\.context-recall\]"):
        codex.with_mcp('[mcp_servers.context-recall]\ncommand = "x"\n', None)
    with pytest.raises(ValueError, match="is not valid TOML"):
        codex.with_mcp("model = [", None)


def test_install_and_uninstall_through_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "recall"))
    monkeypatch.setenv("RECALL_CONFIG", str(tmp_path / "config.env"))
    (tmp_path / "codex").mkdir()
    (tmp_path / "codex" / "config.toml").write_text(CONFIG)
    runner = CliRunner()
    done = runner.invoke(cli, ["install", "--agent", "codex"])
    assert done.exit_code == 0, done.output
    hooks = json.loads((tmp_path / "codex" / "hooks.json").read_text())["hooks"]
    assert sorted(hooks) == ["PreCompact", "SessionStart", "Stop", "UserPromptSubmit"]
    assert hooks["Stop"][0]["hooks"][0]["command"].endswith("recall hook")
    assert (
        "context-recall"
        in tomllib.loads((tmp_path / "codex" / "config.toml").read_text())["mcp_servers"]
    )
    refused = runner.invoke(cli, ["install", "--agent", "codex", "--scope", "project"])
    assert refused.exit_code == 2 and "Codex's files are in $CODEX_HOME" in refused.output
    gone = runner.invoke(cli, ["uninstall", "--agent", "codex"])
    assert gone.exit_code == 0, gone.output
    assert not (tmp_path / "codex" / "hooks.json").exists()
    assert (tmp_path / "codex" / "config.toml").read_text() == CONFIG


def test_gemini_hooks_and_server_go_in_its_settings_and_come_out_again(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path))
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "recall"))
    monkeypatch.setenv("RECALL_CONFIG", str(tmp_path / "config.env"))
    settings = tmp_path / ".gemini" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}))
    runner = CliRunner()
    done = runner.invoke(cli, ["install", "--agent", "gemini"])
    assert done.exit_code == 0, done.output
    written = json.loads(settings.read_text())
    hooks = written["hooks"]
    assert sorted(hooks) == [
        "AfterAgent",
        "BeforeAgent",
        "PreCompress",
        "SessionEnd",
        "SessionStart",
    ]
    assert hooks["AfterAgent"][0]["hooks"][0]["timeout"] == 15_000  # milliseconds
    assert written["mcpServers"]["context-recall"]["args"] == ["mcp"]
    assert "type" not in written["mcpServers"]["context-recall"]
    assert "nothing changed" in runner.invoke(cli, ["install", "--agent", "gemini"]).output
    gone = runner.invoke(cli, ["uninstall", "--agent", "gemini"])
    assert gone.exit_code == 0, gone.output
    assert json.loads(settings.read_text()) == {
        "security": {"auth": {"selectedType": "gemini-api-key"}}
    }
