"""The Claude Code plugin (this repository: its manifest in .claude-plugin/, hooks and server in
plugin/) and the marketplace that lists it agree with what `recall install` writes: the same
hooks, timeouts and MCP server, run through the plugin's own launcher (plugin/bin/recall)."""

from __future__ import annotations

import json
from pathlib import Path

from contextrecall.install.merge import (
    HOOK_TIMEOUTS,
    MCP_SERVER_NAME,
    Plan,
    is_recall_hook,
    mcp_server_entry,
)

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugin"
MANIFEST = ROOT / ".claude-plugin" / "plugin.json"
LAUNCHER = "${CLAUDE_PLUGIN_ROOT}/plugin/bin/recall"  # sh runs it: no exec bit needed


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def package_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def test_the_plugin_hooks_are_what_install_writes():
    manifest = load(MANIFEST)
    hooks = load(ROOT / manifest["hooks"])["hooks"]
    plan = Plan(command=f'sh "{LAUNCHER}" hook')
    assert set(hooks) == set(HOOK_TIMEOUTS)
    for event, groups in hooks.items():
        entries = [entry for group in groups for entry in group["hooks"]]
        assert entries == [plan.hook_entry(event)]
        assert all(is_recall_hook(entry) for entry in entries)


def test_the_plugin_mcp_server_is_the_recall_command():
    servers = load(ROOT / load(MANIFEST)["mcpServers"])["mcpServers"]
    expected = mcp_server_entry(None)
    assert servers == {MCP_SERVER_NAME: {**expected, "command": "sh", "args": [LAUNCHER, "mcp"]}}


def test_the_marketplace_lists_the_plugin_by_its_manifest():
    manifest = load(MANIFEST)
    market = load(ROOT / ".claude-plugin" / "marketplace.json")
    assert market["name"] and market["owner"]["name"]
    (entry,) = market["plugins"]
    assert entry["name"] == manifest["name"]
    assert entry["version"] == manifest["version"] == package_version()
    # the plugin is the whole repository: the launcher builds its environment from it
    assert (ROOT / entry["source"]).resolve() == ROOT.resolve()


def test_no_file_of_the_plugin_names_a_path_of_this_machine():
    for path in [*PLUGIN.rglob("*.json"), *(ROOT / ".claude-plugin").glob("*.json")]:
        for text in strings(load(path)):
            assert not text.startswith(("/", "~")), (path, text)
            assert str(Path.home()) not in text and str(ROOT) not in text, (path, text)


def test_the_plugin_name_recall_looks_for_is_the_plugins():
    """`recall install` and `recall status` find the plugin enabled by this name."""
    from contextrecall.install.files import PLUGIN_NAME

    assert load(MANIFEST)["name"] == PLUGIN_NAME
    (listed,) = load(ROOT / ".claude-plugin" / "marketplace.json")["plugins"]
    assert listed["name"] == PLUGIN_NAME
