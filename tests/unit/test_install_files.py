"""`recall install` on disk: which files each scope names, backups, BOMs, `installed_hooks`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from contextrecall.install import files
from contextrecall.install.merge import HOOK_EVENTS, MCP_SERVER_NAME, Plan, SettingsFormatError
from contextrecall.settings import get_settings

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A home, a RECALL_HOME and a git repository of the test's own; no CLAUDE_CONFIG_DIR."""
    home, recall_home, repo = tmp_path / "home", tmp_path / "recall-home", tmp_path / "repo"
    home.mkdir()
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RECALL_HOME", str(recall_home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    get_settings.cache_clear()
    yield {"home": home, "recall_home": recall_home, "repo": repo}
    get_settings.cache_clear()


def test_each_scope_names_its_files(env):
    home, repo = env["home"], env["repo"]
    src = repo / "src"
    assert files.settings_path("user", src) == home / ".claude" / "settings.json"
    assert files.settings_path("project", src) == repo / ".claude" / "settings.json"
    assert files.settings_path("local", src) == repo / ".claude" / "settings.local.json"
    assert files.mcp_config_path("user", src) == home / ".claude.json"
    assert files.mcp_config_path("project", src) == repo / ".mcp.json"
    assert files.mcp_config_path("local", src) == home / ".claude.json"
    assert files.mcp_project("local", src) == str(repo)
    assert files.mcp_project("user", src) is None and files.mcp_project("project", src) is None
    with pytest.raises(ValueError, match="unknown scope"):
        files.settings_path("global", src)


def test_outside_a_repository_the_directory_is_the_project(env, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert files.settings_path("local", plain) == plain / ".claude" / "settings.local.json"
    assert files.mcp_project("local", plain) == str(plain)


def test_claude_config_dir_replaces_the_home_locations(env, tmp_path, monkeypatch):
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    assert files.claude_config_dir() == config
    assert files.settings_path("user") == config / "settings.json"
    assert files.user_config_path() == config / ".claude.json"
    assert files.mcp_config_path("user") == config / ".claude.json"
    assert files.mcp_config_path("local", env["repo"]) == config / ".claude.json"
    assert files.settings_path("project", env["repo"]) == env["repo"] / ".claude" / "settings.json"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "")
    assert files.claude_config_dir() is None
    assert files.user_config_path() == env["home"] / ".claude.json"


def test_the_shared_scope_names_the_bare_command_and_the_others_a_path(env):
    project = files.plan_for("project")
    assert project.command == "recall hook"
    assert project.mcp_servers[MCP_SERVER_NAME]["command"] == "recall"
    executable = files.recall_executable()
    for scope in ("user", "local"):
        plan = files.plan_for(scope)
        assert plan.mcp_servers[MCP_SERVER_NAME]["command"] == (executable or "recall")
        if executable:
            assert Path(executable).is_absolute() and plan.command.endswith("/recall hook")


def test_a_bom_is_read_and_never_written_back(env, tmp_path):
    path = tmp_path / "settings.json"
    path.write_bytes(BOM + json.dumps({"model": "opus"}).encode())
    assert files.read_document(path) == {"model": "opus"}
    outcome = files.install_into(path, files.plan_for("user"))
    assert outcome.changed and outcome.backup is not None
    raw = path.read_bytes()
    assert not raw.startswith(BOM)
    document = json.loads(raw.decode("utf-8"))
    assert document["model"] == "opus" and set(document["hooks"]) == set(HOOK_EVENTS)
    assert outcome.backup.read_bytes().startswith(BOM)  # the copy is the file as it was


def test_a_file_that_is_not_utf8_is_refused_with_its_path(env, tmp_path):
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"model": "\xff"}')
    with pytest.raises(SettingsFormatError, match="not UTF-8"):
        files.read_document(path)


def test_backups_go_under_recall_home_privately_named_after_the_original(env):
    path = env["repo"] / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"model": "opus"}\n')
    first = files.backup(path)
    second = files.backup(path)
    directory = env["recall_home"] / "backups"
    assert first.parent == directory and second.parent == directory and first != second
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert first.name.startswith(files.backup_name(path) + ".bak-")
    assert "repo_.claude_settings.json.bak-" in first.name and "/" not in files.backup_name(path)
    assert first.read_text() == second.read_text() == '{"model": "opus"}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_a_very_long_path_still_makes_a_valid_backup_name(env, tmp_path):
    deep = tmp_path.joinpath(*["d" * 50] * 6)
    deep.mkdir(parents=True)
    path = deep / "settings.json"
    path.write_text("{}")
    name = files.backup_name(path)
    assert len(name) <= 160 and name.endswith("settings.json")
    assert files.backup(path).is_file()


def test_uninstall_deletes_an_emptied_file_and_claude_dir_but_never_claude_json(env):
    repo, home = env["repo"], env["home"]
    plan = files.plan_for("local")
    settings = repo / ".claude" / "settings.local.json"
    files.install_into(settings, plan)
    outcome = files.uninstall_from(settings)
    assert outcome.deleted and outcome.removed_dirs == [repo / ".claude"]
    assert not (repo / ".claude").exists()
    claude_json = home / ".claude.json"
    files.register_mcp_server(claude_json, plan, project=str(repo))
    gone = files.unregister_mcp_server(claude_json, plan, project=str(repo))
    assert gone.changed and not gone.deleted
    assert json.loads(claude_json.read_text()) == {}
    top = files.register_mcp_server(claude_json, plan)  # user scope: top level
    assert top.changed and not files.unregister_mcp_server(claude_json, plan).deleted
    assert claude_json.is_file()


def test_a_claude_dir_holding_other_files_stays(env):
    repo = env["repo"]
    (repo / ".claude" / "commands").mkdir(parents=True)
    settings = repo / ".claude" / "settings.json"
    files.install_into(settings, files.plan_for("project"))
    outcome = files.uninstall_from(settings)
    assert outcome.deleted and outcome.removed_dirs == []
    assert (repo / ".claude" / "commands").is_dir()


def test_installed_hooks_reports_each_scope_holding_our_entries(env):
    repo, home = env["repo"], env["home"]
    src = repo / "src"
    assert files.installed_hooks(src) == []
    files.install_into(files.settings_path("user", src), files.plan_for("user"))
    files.install_into(files.settings_path("local", src), files.plan_for("local"))
    found = files.installed_hooks(src)
    assert [(scope, path) for scope, path, _ in found] == [
        ("user", home / ".claude" / "settings.json"),
        ("local", repo / ".claude" / "settings.local.json"),
    ]
    assert all(sorted(events) == sorted(HOOK_EVENTS) for _, _, events in found)
    partial = Plan(command="recall hook", timeouts={"Stop": 15})
    files.install_into(files.settings_path("project", src), partial)
    assert ("project", repo / ".claude" / "settings.json", ["Stop"]) in files.installed_hooks(src)
    assert [scope for scope, _, _ in files.installed_hooks(src)] == ["user", "project", "local"]


def test_installed_hooks_skips_unreadable_and_malformed_files(env):
    repo, home = env["repo"], env["home"]
    files.install_into(files.settings_path("local", repo), files.plan_for("local"))
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text('{"hooks": [')  # malformed
    (repo / ".claude" / "settings.json").mkdir()  # unreadable: a directory
    assert [scope for scope, _, _ in files.installed_hooks(repo)] == ["local"]
    (home / ".claude" / "settings.json").write_text('{"hooks": {"Stop": {}}}')  # wrong shape
    (repo / ".claude" / "settings.local.json").write_bytes(b"\xff\xfe")  # not UTF-8
    assert files.installed_hooks(repo) == []


def test_installed_hooks_reads_a_bom_file_and_other_commands_are_not_ours(env):
    repo = env["repo"]
    path = files.settings_path("project", repo)
    path.parent.mkdir()
    other = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}
    path.write_bytes(BOM + json.dumps(other).encode())
    assert files.installed_hooks(repo) == []
    files.install_into(path, files.plan_for("project"))
    [(scope, found, events)] = files.installed_hooks(repo)
    assert scope == "project" and found == path and "Stop" in events


def test_installed_hooks_defaults_to_the_working_directory(env, monkeypatch):
    monkeypatch.chdir(env["repo"] / "src")
    files.install_into(files.settings_path("project"), files.plan_for("project"))
    assert [scope for scope, _, _ in files.installed_hooks()] == ["project"]


def test_windows_is_reported_unsupported(monkeypatch):
    assert files.unsupported_platform() is None  # the tests run on POSIX
    monkeypatch.setattr(files, "os_name", lambda: "nt")
    problem = files.unsupported_platform()
    assert problem and "Windows is not supported" in problem and "WSL" in problem
