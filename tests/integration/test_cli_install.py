"""`recall install` / `recall uninstall` on real settings files, through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from contextrecall.cli import cli
from contextrecall.install import files
from contextrecall.install.merge import HOOK_EVENTS, MCP_SERVER_NAME, is_recall_hook
from contextrecall.settings import get_settings

EXISTING = {
    "model": "sonnet",
    "env": {"FOO": "bar"},
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 3}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],
    },
}


BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """This test's own home, RECALL_HOME (backups land there) and configuration file (install
    records RECALL_HOME in it); no CLAUDE_CONFIG_DIR."""
    home, recall_home = tmp_path / "home", tmp_path / "recall-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RECALL_HOME", str(recall_home))
    monkeypatch.setenv("RECALL_CONFIG", str(tmp_path / "config.env"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    get_settings.cache_clear()
    yield {"home": home, "recall_home": recall_home}
    get_settings.cache_clear()


def recall(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=4) + "\n")
    return path


def backups(path: Path) -> list[Path]:
    """The backups of ``path``: under $RECALL_HOME/backups, none beside it."""
    assert not list(path.parent.glob(f"{path.name}.bak-*"))
    directory = get_settings().home / "backups"
    return sorted(directory.glob(f"{files.backup_name(path)}.bak-*"))


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


def run_cli(*args: str, home: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", *args],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "RECALL_HOME": str(home / "rh"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def recall_mcp_entry(document: dict, *, bare: bool = False) -> dict:
    entry = document["mcpServers"][MCP_SERVER_NAME]
    assert entry["args"] == ["mcp"] and entry["type"] == "stdio"
    if bare:
        assert entry == {"type": "stdio", "command": "recall", "args": ["mcp"], "env": {}}
    else:
        assert Path(entry["command"]).is_absolute() and Path(entry["command"]).name == "recall"
    return entry


def test_scopes_pick_home_and_repository_settings(tmp_path):
    home, repo = tmp_path / "home", tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
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
    recall_mcp_entry(json.loads((repo / ".mcp.json").read_text()), bare=True)  # shared: .mcp.json
    assert not (repo / "src" / ".claude").exists() and not (repo / "src" / ".mcp.json").exists()
    removed = run_cli("uninstall", "--scope", "project", home=home, cwd=repo / "src")
    assert removed.returncode == 0, removed.stderr
    assert not (repo / ".claude").exists() and not (repo / ".mcp.json").exists()
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
    result = run_cli("install", "--scope", "project", "--no-mcp", home=home, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / ".claude" / "settings.json").is_file()
    assert not (repo / ".mcp.json").exists()


# Scopes: what each writes where, and that uninstall leaves nothing behind.


def strings_in(value) -> list[str]:
    """Every string of a JSON document, keys included."""
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings_in(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return [value] if isinstance(value, str) else []


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for a directory)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh repository (a `.git`, a README, a .gitignore), the working directory in it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "README.md").write_text("# app\n")
    (root / ".gitignore").write_text(".venv/\n")
    (root / "src").mkdir()
    monkeypatch.chdir(root / "src")
    return root.resolve()


def test_project_scope_writes_no_path_of_this_machine(repo, isolated, tmp_path):
    result = recall("install", "--scope", "project")
    assert result.exit_code == 0, result.output
    settings, mcp_json = repo / ".claude" / "settings.json", repo / ".mcp.json"
    machine = [str(Path(sys.executable).parent), str(tmp_path), str(isolated["home"]), str(repo)]
    for path in (settings, mcp_json):
        for text in strings_in(json.loads(path.read_text())):
            assert not text.startswith("/"), (path, text)
            assert not any(part in text for part in machine), (path, text)
    assert {
        e["command"] for group in ours(json.loads(settings.read_text())).values() for e in group
    } == {"recall hook"}
    recall_mcp_entry(json.loads(mcp_json.read_text()), bare=True)
    assert not (isolated["home"] / ".claude.json").exists()  # nothing of the user's touched


def test_project_scope_replaces_an_old_install_by_path(repo):
    old = Path(sys.executable).parent / "recall"
    settings, mcp_json = repo / ".claude" / "settings.json", repo / ".mcp.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"hooks": {"Stop": [{"hooks": [{"command": f"{old} hook"}]}]}}))
    mcp_json.write_text(
        json.dumps({"mcpServers": {MCP_SERVER_NAME: {"command": str(old), "args": ["mcp"]}}})
    )
    assert recall("install", "--scope", "project").exit_code == 0
    assert not any(s.startswith("/") for s in strings_in(json.loads(settings.read_text())))
    recall_mcp_entry(json.loads(mcp_json.read_text()), bare=True)


def test_the_scope_picks_the_command_form_for_an_explicit_settings_file(tmp_path):
    shared, personal = tmp_path / "shared.json", tmp_path / "personal.json"
    assert recall("install", "--scope", "project", "--settings", str(shared)).exit_code == 0
    assert recall("install", "--scope", "local", "--settings", str(personal)).exit_code == 0
    [[bare]] = [ours(json.loads(shared.read_text()))["Stop"]]
    [[by_path]] = [ours(json.loads(personal.read_text()))["Stop"]]
    assert bare["command"] == "recall hook"
    assert by_path["command"] == f"{files.recall_executable() or 'recall'} hook"


def test_local_scope_keeps_this_machine_out_of_the_repository(repo, isolated):
    claude_json = isolated["home"] / ".claude.json"
    original = {
        "numStartups": 7,
        "mcpServers": {"github": {"command": "gh-mcp"}},
        "projects": {
            "/elsewhere": {"mcpServers": {"db": {"command": "db-mcp"}}},
            str(repo): {"allowedTools": ["Bash(ls:*)"], "history": [{"display": "hi"}]},
        },
    }
    claude_json.write_text(json.dumps(original))
    result = recall("install", "--scope", "local")
    assert result.exit_code == 0, result.output
    local = repo / ".claude" / "settings.local.json"
    executable = files.recall_executable()
    assert executable and Path(executable).is_absolute()
    commands = {
        e["command"] for group in ours(json.loads(local.read_text())).values() for e in group
    }
    assert commands == {f"{executable} hook"}
    document = json.loads(claude_json.read_text())
    entry = document["projects"][str(repo)]
    assert entry["mcpServers"][MCP_SERVER_NAME]["command"] == executable
    assert recall_mcp_entry(entry)["args"] == ["mcp"]
    assert entry["allowedTools"] == ["Bash(ls:*)"] and entry["history"] == [{"display": "hi"}]
    assert document["projects"]["/elsewhere"] == original["projects"]["/elsewhere"]
    assert document["mcpServers"] == original["mcpServers"] and document["numStartups"] == 7
    assert f"(project {repo})" in result.output
    assert sorted(p.name for p in (repo / ".claude").iterdir()) == ["settings.local.json"]
    assert not (repo / ".mcp.json").exists()
    [backup] = backups(claude_json)
    assert json.loads(backup.read_text()) == original
    assert f"backup: {backup}" in result.output

    again = recall("install", "--scope", "local")
    assert again.output.count("nothing changed") == 2 and len(backups(claude_json)) == 1

    removed = recall("uninstall", "--scope", "local")
    assert removed.exit_code == 0, removed.output
    assert json.loads(claude_json.read_text()) == original
    assert not (repo / ".claude").exists()
    assert "removed the `recall mcp` server" in removed.output


def test_local_scope_entry_created_for_a_new_project_goes_again(repo, isolated):
    claude_json = isolated["home"] / ".claude.json"
    claude_json.write_text(json.dumps({"projects": {"/elsewhere": {}}}))
    assert recall("install", "--scope", "local").exit_code == 0
    assert set(json.loads(claude_json.read_text())["projects"]) == {"/elsewhere", str(repo)}
    assert recall("uninstall", "--scope", "local").exit_code == 0
    assert json.loads(claude_json.read_text()) == {"projects": {"/elsewhere": {}}}


def test_local_scope_refuses_a_malformed_project_entry_before_writing(repo, isolated):
    claude_json = isolated["home"] / ".claude.json"
    claude_json.write_text(json.dumps({"projects": {str(repo): []}}))
    result = CliRunner().invoke(cli, ["install", "--scope", "local"])
    assert result.exit_code == 2 and str(claude_json) in result.output
    assert not (repo / ".claude").exists()


def test_uninstall_leaves_a_fresh_repository_exactly_as_it_was(repo, isolated):
    before = tree(repo)
    for scope in ("project", "local"):
        result = recall("install", "--scope", scope)
        assert result.exit_code == 0, result.output
    assert (repo / ".claude" / "settings.json").is_file() and (repo / ".mcp.json").is_file()
    outputs = []
    for scope in ("local", "project"):
        result = recall("uninstall", "--scope", scope)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert tree(repo) == before  # no `{}` files, no backups, no empty `.claude/`
    directory = isolated["recall_home"] / "backups"
    saved = sorted(p.name for p in directory.iterdir())
    assert len(saved) == 4  # each file once, before the uninstall changed it
    originals = [
        repo / ".claude" / "settings.local.json",
        repo / ".claude" / "settings.json",
        repo / ".mcp.json",
        isolated["home"] / ".claude.json",
    ]
    assert sorted(name.split(".bak-")[0] for name in saved) == sorted(
        files.backup_name(path) for path in originals
    )
    printed = [line.removeprefix("backup: ") for out in outputs for line in out.splitlines()]
    printed = [line for line in printed if line.startswith("/")]
    assert sorted(Path(p).name for p in printed) == saved
    assert all(Path(p).parent == directory for p in printed)
    assert os.stat(directory).st_mode & 0o777 == 0o700
    assert (isolated["home"] / ".claude.json").is_file()  # never deleted, even when emptied


def test_uninstall_keeps_what_else_the_repository_had_in_claude_dir(repo):
    settings = repo / ".claude" / "settings.json"
    (repo / ".claude" / "commands").mkdir(parents=True)
    (repo / ".claude" / "commands" / "review.md").write_text("review\n")
    settings.write_text(json.dumps(EXISTING, indent=2) + "\n")
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"db": {"command": "db"}}}))
    before = tree(repo)
    assert recall("install", "--scope", "project").exit_code == 0
    assert recall("uninstall", "--scope", "project").exit_code == 0
    after = tree(repo)
    assert sorted(after) == sorted(before)
    assert json.loads(settings.read_text()) == EXISTING
    assert json.loads((repo / ".mcp.json").read_text()) == {"mcpServers": {"db": {"command": "db"}}}


def test_claude_config_dir_is_where_user_scope_goes(tmp_path, isolated, monkeypatch):
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    result = recall("install")
    assert result.exit_code == 0, result.output
    assert set(ours(json.loads((config / "settings.json").read_text()))) == set(HOOK_EVENTS)
    recall_mcp_entry(json.loads((config / ".claude.json").read_text()))
    assert list(isolated["home"].iterdir()) == []  # nothing in HOME
    assert str(config / "settings.json") in result.output
    assert [(scope, path) for scope, path, _ in files.installed_hooks(tmp_path)] == [
        ("user", config / "settings.json")
    ]
    removed = recall("uninstall")
    assert removed.exit_code == 0, removed.output
    assert not (config / "settings.json").exists()  # it held only our hooks
    assert json.loads((config / ".claude.json").read_text()) == {}  # never deleted
    assert config.is_dir()


def test_claude_config_dir_holds_local_scope_servers_in_a_fresh_process(tmp_path):
    home, config, repo = tmp_path / "home", tmp_path / "claude-config", tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    result = run_cli(
        "install", "--scope", "local", home=home, cwd=repo, CLAUDE_CONFIG_DIR=str(config)
    )
    assert result.returncode == 0, result.stderr
    document = json.loads((config / ".claude.json").read_text())
    recall_mcp_entry(document["projects"][str(repo.resolve())])
    assert not (home / ".claude.json").exists() and not (home / ".claude").exists()
    assert (repo / ".claude" / "settings.local.json").is_file()


def test_user_settings_holding_other_keys_are_kept(isolated):
    settings = isolated["home"] / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"model": "opus"}))
    assert recall("install").exit_code == 0
    assert recall("uninstall").exit_code == 0
    assert json.loads(settings.read_text()) == {"model": "opus"}
    assert json.loads((isolated["home"] / ".claude.json").read_text()) == {}


def test_a_settings_file_with_a_bom_is_accepted_and_rewritten_without(tmp_path):
    path = tmp_path / "settings.json"
    path.write_bytes(BOM + json.dumps(EXISTING).encode("utf-8"))
    result = recall("install", "--settings", str(path))
    assert result.exit_code == 0, result.output
    raw = path.read_bytes()
    assert not raw.startswith(BOM)
    document = json.loads(raw.decode("utf-8"))
    assert document["model"] == "sonnet" and document["env"] == {"FOO": "bar"}
    assert {event for event, found in ours(document).items() if found} == set(HOOK_EVENTS)
    [backup] = backups(path)
    assert backup.read_bytes().startswith(BOM)
    assert "nothing changed" in recall("install", "--settings", str(path)).output
    assert recall("uninstall", "--settings", str(path)).exit_code == 0
    assert json.loads(path.read_text()) == EXISTING


def test_an_mcp_config_with_a_bom_is_accepted(repo):
    (repo / ".mcp.json").write_bytes(BOM + b'{"mcpServers": {"db": {"command": "db"}}}')
    result = recall("install", "--scope", "project")
    assert result.exit_code == 0, result.output
    raw = (repo / ".mcp.json").read_bytes()
    assert not raw.startswith(BOM) and set(json.loads(raw)["mcpServers"]) == {"db", MCP_SERVER_NAME}


def test_windows_is_refused_with_one_line_and_exit_2(repo, isolated, monkeypatch):
    monkeypatch.setattr(files, "os_name", lambda: "nt")
    for scope in ("user", "project", "local"):
        result = CliRunner().invoke(cli, ["install", "--scope", scope])
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [
            "recall: error: Windows is not supported: the hook needs fcntl and SIGALRM (POSIX); "
            "use WSL"
        ]
    assert list(isolated["home"].iterdir()) == [] and not (repo / ".claude").exists()
    assert CliRunner().invoke(cli, ["uninstall", "--scope", "project"]).exit_code == 0


def test_installed_hooks_after_installs_through_the_cli(repo, isolated):
    assert files.installed_hooks(repo) == []
    first = recall("install", "--scope", "project", "--no-mcp")
    assert first.exit_code == 0 and "note:" not in first.output
    second = recall("install", "--scope", "local", "--no-mcp")
    assert second.exit_code == 0
    assert (
        f"note: `recall hook` is also in {repo / '.claude' / 'settings.json'} (project scope)"
        in second.output
    )
    found = files.installed_hooks(repo / "src")
    assert [(scope, path) for scope, path, _ in found] == [
        ("project", repo / ".claude" / "settings.json"),
        ("local", repo / ".claude" / "settings.local.json"),
    ]
    assert all(sorted(events) == sorted(HOOK_EVENTS) for _, _, events in found)
    assert recall("uninstall", "--scope", "project", "--no-mcp").exit_code == 0
    assert [scope for scope, _, _ in files.installed_hooks(repo)] == ["local"]


def test_scope_choices_match_the_exported_scopes():
    from contextrecall.cli import install as command

    assert command.SCOPES == files.SCOPES


# As `claude plugin install context-recall@context-recall` (Claude Code 2.1.197) leaves
# ~/.claude/settings.json: the marketplace it came from, and the plugin enabled.
PLUGIN_ENABLED = {
    "extraKnownMarketplaces": {
        "context-recall": {"source": {"source": "directory", "path": "/src/context-recall"}}
    },
    "enabledPlugins": {"context-recall@context-recall": True},
}


def test_install_refuses_with_one_line_while_the_plugin_is_enabled(repo, isolated):
    """Issue 29: the plugin already runs the hooks and the server; a second install would
    run every hook twice and register a second server."""
    user = isolated["home"] / ".claude" / "settings.json"
    user.parent.mkdir()
    user.write_text(json.dumps(PLUGIN_ENABLED))
    before = user.read_text()
    for scope in ("user", "project", "local"):
        result = CliRunner().invoke(cli, ["install", "--scope", scope])
        assert result.exit_code == 2
        (line,) = result.output.strip().splitlines()
        assert line.startswith("recall: error: the context-recall plugin is enabled (user scope, ")
        assert "claude plugin disable context-recall" in line
    assert user.read_text() == before and not (repo / ".claude").exists()
    assert not (isolated["home"] / ".claude.json").exists()  # no second MCP server
    user.write_text(json.dumps({**PLUGIN_ENABLED, "enabledPlugins": {}}))  # disabled
    assert recall("install", "--scope", "user").exit_code == 0


def test_status_shows_the_plugins_hooks_and_flags_a_double_install(repo, isolated):
    from contextrecall.maintenance.status import format_status, installed_hooks

    local = repo / ".claude" / "settings.local.json"
    local.parent.mkdir()
    local.write_text(json.dumps({"enabledPlugins": {"context-recall@team-tools": True}}))
    (hooks,) = installed_hooks()
    assert hooks["scope"] == "local" and hooks["plugin"] and hooks["path"] == str(local)
    report = {"database": "x", "revision": "1", "up_to_date": True, "rows": {}, "hooks": [hooks]}
    shown = format_status(report)
    assert f"hooks     local: plugin enabled in {local}" in shown and "TWICE" not in shown
    assert "not installed" not in shown
    # a settings file `recall install` wrote before the plugin came: both run every hook
    project = repo / ".claude" / "settings.json"
    files.install_into(project, files.plan_for("project"), backups=isolated["recall_home"])
    report["hooks"] = installed_hooks()
    assert [h["scope"] for h in report["hooks"]] == ["project", "local"]
    assert (
        "hooks     INSTALLED TWICE: the plugin and `recall install` both run every hook "
        "-> recall uninstall --scope project"
    ) in format_status(report)
