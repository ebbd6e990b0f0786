"""`recall install` / `recall uninstall` on real settings files, through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from contextrecall.cli import cli
from contextrecall.install.merge import HOOK_EVENTS, MCP_SERVER_NAME, is_recall_hook

EXISTING = {
    "model": "sonnet",
    "env": {"FOO": "bar"},
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 3}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],
    },
}


def recall(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=4) + "\n")
    return path


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bak-*"))


def ours(document: dict) -> dict[str, list[dict]]:
    return {
        event: [e for g in groups for e in g.get("hooks", []) if is_recall_hook(e)]
        for event, groups in document["hooks"].items()
    }


def test_install_keeps_other_hooks_and_backs_up_first(settings_file):
    original = settings_file.read_text()
    result = recall("install", "--settings", str(settings_file))
    assert result.exit_code == 0, result.output
    document = json.loads(settings_file.read_text())
    assert document["model"] == "sonnet" and document["env"] == {"FOO": "bar"}
    assert document["hooks"]["PreToolUse"] == EXISTING["hooks"]["PreToolUse"]
    assert document["hooks"]["Stop"][0] == EXISTING["hooks"]["Stop"][0]
    found = ours(document)
    assert all(len(found[event]) == 1 for event in HOOK_EVENTS)
    command = found["Stop"][0]["command"]
    assert command.endswith("recall hook")
    assert command.split()[0] in {"recall", str(Path(sys.executable).parent / "recall")}
    [backup] = backups(settings_file)
    assert backup.read_text() == original
    assert str(backup) in result.output
    assert "mcpServers" not in document  # Claude Code reads MCP servers from other files
    assert not (settings_file.parent.parent / ".claude.json").exists()  # --settings alone


def test_second_install_changes_nothing_and_makes_no_second_backup(settings_file):
    assert recall("install", "--settings", str(settings_file)).exit_code == 0
    first = settings_file.read_bytes()
    mtime = settings_file.stat().st_mtime_ns
    again = recall("install", "--settings", str(settings_file))
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert settings_file.read_bytes() == first
    assert settings_file.stat().st_mtime_ns == mtime
    assert len(backups(settings_file)) == 1


def test_install_creates_a_missing_settings_file_without_backup(tmp_path):
    path = tmp_path / "new" / ".claude" / "settings.json"
    assert recall("install", "--settings", str(path)).exit_code == 0
    assert set(ours(json.loads(path.read_text()))) == set(HOOK_EVENTS)
    assert backups(path) == []


@pytest.mark.parametrize(
    "content", ['{"hooks": {"Stop": [}', "not json at all", '{"hooks": ["Stop"]}', "[1, 2]"]
)
def test_unusable_settings_file_is_refused_with_exit_2_and_left_untouched(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_text(content)
    result = CliRunner().invoke(cli, ["install", "--settings", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recall: error: ")
    assert str(path) in lines[0]
    assert path.read_text() == content
    assert backups(path) == []
    assert CliRunner().invoke(cli, ["uninstall", "--settings", str(path)]).exit_code == 2


def test_uninstall_round_trip_leaves_only_the_other_hooks(settings_file):
    assert recall("install", "--settings", str(settings_file)).exit_code == 0
    result = recall("uninstall", "--settings", str(settings_file))
    assert result.exit_code == 0 and "removed" in result.output
    assert json.loads(settings_file.read_text()) == EXISTING
    assert len(backups(settings_file)) == 2  # one before each change
    again = recall("uninstall", "--settings", str(settings_file))
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert len(backups(settings_file)) == 2


def test_uninstall_of_a_missing_file_creates_nothing(tmp_path):
    path = tmp_path / "settings.json"
    assert recall("uninstall", "--settings", str(path)).exit_code == 0
    assert not path.exists()


def run_cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", *args],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def recall_mcp_entry(document: dict) -> dict:
    entry = document["mcpServers"][MCP_SERVER_NAME]
    assert entry["args"] == ["mcp"] and entry["type"] == "stdio"
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).name == "recall"
    return entry


def test_scopes_pick_home_and_repository_settings(tmp_path):
    home, repo = tmp_path / "home", tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    home.mkdir()
    (home / ".claude.json").write_text(json.dumps({"numStartups": 3, "projects": {}}))
    user = run_cli("install", home=home, cwd=repo / "src")
    assert user.returncode == 0, user.stderr
    assert set(ours(json.loads((home / ".claude" / "settings.json").read_text()))) == set(
        HOOK_EVENTS
    )
    claude_json = json.loads((home / ".claude.json").read_text())
    assert claude_json["numStartups"] == 3 and claude_json["projects"] == {}
    recall_mcp_entry(claude_json)  # user scope: top-level mcpServers of ~/.claude.json
    assert "registered the `recall mcp` server" in user.stdout
    project = run_cli("install", "--scope", "project", home=home, cwd=repo / "src")
    assert project.returncode == 0, project.stderr
    assert (repo / ".claude" / "settings.json").is_file()
    recall_mcp_entry(json.loads((repo / ".mcp.json").read_text()))  # project scope: .mcp.json
    assert not (repo / "src" / ".claude").exists() and not (repo / "src" / ".mcp.json").exists()
    removed = run_cli("uninstall", "--scope", "project", home=home, cwd=repo / "src")
    assert removed.returncode == 0, removed.stderr
    assert json.loads((repo / ".claude" / "settings.json").read_text()) == {}
    assert json.loads((repo / ".mcp.json").read_text()) == {}
    removed = run_cli("uninstall", home=home, cwd=repo / "src")
    assert removed.returncode == 0, removed.stderr
    assert json.loads((home / ".claude.json").read_text()) == {"numStartups": 3, "projects": {}}


def test_mcp_config_option_registers_beside_other_servers_and_uninstall_restores(
    settings_file, tmp_path
):
    config = tmp_path / "claude.json"
    original = {"mcpServers": {"github": {"command": "gh-mcp"}}, "theme": "dark"}
    config.write_text(json.dumps(original))
    args = ("--settings", str(settings_file), "--mcp-config", str(config))
    result = recall("install", *args)
    assert result.exit_code == 0, result.output
    document = json.loads(config.read_text())
    assert document["mcpServers"]["github"] == {"command": "gh-mcp"}
    recall_mcp_entry(document)
    assert len(backups(config)) == 1
    again = recall("install", *args)
    assert "`recall mcp` already registered" in again.output and len(backups(config)) == 1
    removed = recall("uninstall", *args)
    assert "removed the `recall mcp` server" in removed.output
    assert json.loads(config.read_text()) == original
    assert json.loads(settings_file.read_text()) == EXISTING


def test_unusable_mcp_config_is_refused_before_anything_is_written(settings_file, tmp_path):
    config = tmp_path / ".mcp.json"
    config.write_text('{"mcpServers": []}')
    before = settings_file.read_text()
    result = CliRunner().invoke(
        cli, ["install", "--settings", str(settings_file), "--mcp-config", str(config)]
    )
    assert result.exit_code == 2 and str(config) in result.output
    assert settings_file.read_text() == before and backups(settings_file) == []
    assert config.read_text() == '{"mcpServers": []}'


def test_no_mcp_installs_hooks_only(tmp_path):
    home, repo = tmp_path / "home", tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    home.mkdir()
    result = run_cli("install", "--scope", "project", "--no-mcp", home=home, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / ".claude" / "settings.json").is_file()
    assert not (repo / ".mcp.json").exists()
