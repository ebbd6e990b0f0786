"""The settings.json merge of `recall install`: pure functions over dicts."""

from __future__ import annotations

import copy

import pytest

from contextrecall.install.merge import (
    HOOK_EVENTS,
    MCP_SERVER_NAME,
    Plan,
    SettingsFormatError,
    hook_command,
    install,
    install_mcp_servers,
    installed_events,
    installed_mcp_servers,
    is_recall_hook,
    is_recall_mcp_server,
    mcp_server_entry,
    uninstall,
    uninstall_mcp_servers,
    validate_mcp_config,
)

PLAN = Plan(command="/opt/venv/bin/recall hook")
OTHERS = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh", "timeout": 5}]}
        ],
    },
}


def test_install_adds_one_group_per_event_with_command_and_timeout():
    result = install({}, PLAN)
    assert set(result["hooks"]) == set(HOOK_EVENTS)
    for event in HOOK_EVENTS:
        [group] = result["hooks"][event]
        [entry] = group["hooks"]
        assert entry["type"] == "command" and entry["command"] == PLAN.command
        assert isinstance(entry["timeout"], int) and 0 < entry["timeout"] <= 60
        assert "matcher" not in group  # every source / trigger


def test_install_keeps_other_settings_and_hooks_and_does_not_mutate_input():
    original = copy.deepcopy(OTHERS)
    result = install(OTHERS, PLAN)
    assert original == OTHERS
    assert result["model"] == "opus" and result["permissions"] == OTHERS["permissions"]
    assert result["hooks"]["PreToolUse"] == OTHERS["hooks"]["PreToolUse"]
    assert result["hooks"]["Stop"][0] == OTHERS["hooks"]["Stop"][0]
    assert result["hooks"]["Stop"][1]["hooks"][0]["command"] == PLAN.command


def test_install_twice_is_identical():
    once = install(OTHERS, PLAN)
    assert install(once, PLAN) == once


def test_install_replaces_a_stale_entry_of_ours_instead_of_adding_one():
    old = install(OTHERS, Plan(command="/old/venv/bin/recall hook"))
    result = install(old, PLAN)
    commands = [e["command"] for g in result["hooks"]["Stop"] for e in g["hooks"]]
    assert commands == ["notify-send done", PLAN.command]


def test_install_leaves_our_entry_where_the_user_put_it():
    entry = PLAN.hook_entry("SessionStart")
    placed = {"hooks": {"SessionStart": [{"matcher": "startup", "hooks": [entry]}]}}
    assert install(placed, PLAN)["hooks"]["SessionStart"] == placed["hooks"]["SessionStart"]


def test_uninstall_round_trip_restores_the_original():
    assert uninstall(install(OTHERS, PLAN)) == OTHERS
    assert uninstall(install({}, PLAN)) == {}


def test_uninstall_keeps_foreign_hooks_sharing_a_group_with_ours():
    mixed = {
        "hooks": {
            "Stop": [
                {
                    "hooks": [
                        {"type": "command", "command": "recall hook"},
                        {"type": "command", "command": "say bye"},
                    ]
                }
            ]
        }
    }
    assert uninstall(mixed) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say bye"}]}]}
    }


def test_uninstall_leaves_structures_that_were_already_empty():
    document = {"hooks": {}, "env": {}}
    assert uninstall(document) == document


@pytest.mark.parametrize(
    "command, ours",
    [
        ("recall hook", True),
        ("/home/me/.venv/bin/recall hook", True),
        ("'/path with space/bin/recall' hook", True),
        ("  recall hook  ", True),
        ("recall save x", False),
        ("myrecall hook", False),
        ("echo recall hook-ish", False),
        ("unbalanced 'quote recall hook", True),
    ],
)
def test_recognises_our_entries_by_command(command, ours):
    assert is_recall_hook({"type": "command", "command": command}) is ours


def test_hook_command_quotes_paths_with_spaces():
    assert hook_command(None) == "recall hook"
    assert hook_command("/a b/recall") == "'/a b/recall' hook"
    assert is_recall_hook({"command": hook_command("/a b/recall")})


@pytest.mark.parametrize(
    "document, message",
    [
        ([], "top level"),
        ({"hooks": []}, '"hooks" is not a JSON object'),
        ({"hooks": {"Stop": {}}}, '"hooks"."Stop"'),
    ],
)
def test_refuses_documents_of_the_wrong_shape(document, message):
    with pytest.raises(SettingsFormatError, match=message):
        install(document, PLAN)


MCP_PLAN = Plan(
    command=PLAN.command,
    mcp_servers={MCP_SERVER_NAME: mcp_server_entry("/opt/venv/bin/recall")},
)
CLAUDE_JSON = {
    "numStartups": 12,
    "projects": {"/work/app": {"mcpServers": {"local-one": {"command": "y"}}}},
    "mcpServers": {"other": {"type": "stdio", "command": "x", "args": []}},
}


def test_mcp_server_entry_runs_recall_mcp_over_stdio():
    entry = mcp_server_entry("/opt/venv/bin/recall")
    assert entry == {"type": "stdio", "command": "/opt/venv/bin/recall", "args": ["mcp"], "env": {}}
    assert is_recall_mcp_server(entry) and is_recall_mcp_server(mcp_server_entry(None))
    assert not is_recall_mcp_server({"command": "/opt/venv/bin/recall", "args": ["hook"]})
    assert not is_recall_mcp_server({"command": "npx", "args": ["mcp"]})


def test_hooks_install_never_writes_mcp_servers_into_settings():
    assert "mcpServers" not in install(OTHERS, MCP_PLAN)
    assert uninstall(install(OTHERS, MCP_PLAN)) == OTHERS


def test_mcp_server_registers_at_the_top_level_keeping_everything_else():
    original = copy.deepcopy(CLAUDE_JSON)
    installed = install_mcp_servers(CLAUDE_JSON, MCP_PLAN)
    assert original == CLAUDE_JSON  # not mutated
    assert installed["mcpServers"] == {
        "other": CLAUDE_JSON["mcpServers"]["other"],
        MCP_SERVER_NAME: MCP_PLAN.mcp_servers[MCP_SERVER_NAME],
    }
    assert installed["projects"] == CLAUDE_JSON["projects"] and installed["numStartups"] == 12
    assert "hooks" not in installed
    assert install_mcp_servers(installed, MCP_PLAN) == installed
    assert installed_mcp_servers(installed) == [MCP_SERVER_NAME]
    assert uninstall_mcp_servers(installed, MCP_PLAN) == CLAUDE_JSON


def test_mcp_install_replaces_a_stale_path_and_uninstall_removes_what_it_emptied():
    old = install_mcp_servers({}, Plan("x", mcp_servers={MCP_SERVER_NAME: mcp_server_entry("/a")}))
    new = install_mcp_servers(old, MCP_PLAN)
    assert new["mcpServers"][MCP_SERVER_NAME]["command"] == "/opt/venv/bin/recall"
    assert uninstall_mcp_servers(new, MCP_PLAN) == {}
    assert uninstall_mcp_servers({"mcpServers": {}}, MCP_PLAN) == {"mcpServers": {}}


def test_mcp_uninstall_leaves_a_foreign_server_of_the_same_name():
    foreign = {"mcpServers": {MCP_SERVER_NAME: {"command": "node", "args": ["cr.js"]}}}
    assert uninstall_mcp_servers(foreign, MCP_PLAN) == foreign
    assert installed_mcp_servers(foreign) == []


@pytest.mark.parametrize("document", [[], {"mcpServers": []}, {"mcpServers": "x"}])
def test_refuses_mcp_configs_of_the_wrong_shape(document):
    with pytest.raises(SettingsFormatError):
        validate_mcp_config(document)
    with pytest.raises(SettingsFormatError):
        install_mcp_servers(document, MCP_PLAN)


def test_installed_events_lists_where_ours_are():
    assert installed_events(OTHERS) == []
    assert sorted(installed_events(install(OTHERS, PLAN))) == sorted(HOOK_EVENTS)


# The local scope: MCP servers in one project's entry of ~/.claude.json.
ROOT = "/work/app"


def test_project_mcp_server_goes_in_that_project_entry_keeping_everything_else():
    original = copy.deepcopy(CLAUDE_JSON)
    installed = install_mcp_servers(CLAUDE_JSON, MCP_PLAN, project=ROOT)
    assert original == CLAUDE_JSON  # not mutated
    assert installed["projects"][ROOT]["mcpServers"] == {
        "local-one": {"command": "y"},
        MCP_SERVER_NAME: MCP_PLAN.mcp_servers[MCP_SERVER_NAME],
    }
    assert installed["mcpServers"] == CLAUDE_JSON["mcpServers"]  # the user scope's: untouched
    assert installed["numStartups"] == 12
    assert installed_mcp_servers(installed, project=ROOT) == [MCP_SERVER_NAME]
    assert installed_mcp_servers(installed) == []
    assert installed_mcp_servers(installed, project="/elsewhere") == []
    assert install_mcp_servers(installed, MCP_PLAN, project=ROOT) == installed
    assert uninstall_mcp_servers(installed, MCP_PLAN, project=ROOT) == CLAUDE_JSON


def test_project_mcp_server_creates_the_entry_and_uninstall_removes_only_what_it_emptied():
    others = {"numStartups": 1, "projects": {"/other": {"allowedTools": []}}}
    installed = install_mcp_servers(others, MCP_PLAN, project=ROOT)
    assert installed["projects"]["/other"] == {"allowedTools": []}
    assert list(installed["projects"][ROOT]) == ["mcpServers"]
    assert uninstall_mcp_servers(installed, MCP_PLAN, project=ROOT) == others
    assert (
        uninstall_mcp_servers(
            install_mcp_servers({}, MCP_PLAN, project=ROOT), MCP_PLAN, project=ROOT
        )
        == {}
    )
    with_state = {"projects": {ROOT: {"history": [1], "mcpServers": {}}}}
    assert uninstall_mcp_servers(with_state, MCP_PLAN, project=ROOT) == with_state
    kept = install_mcp_servers({"projects": {ROOT: {"history": [1]}}}, MCP_PLAN, project=ROOT)
    assert uninstall_mcp_servers(kept, MCP_PLAN, project=ROOT) == {
        "projects": {ROOT: {"history": [1]}}
    }


def test_project_mcp_uninstall_leaves_a_top_level_server_and_other_projects():
    top = install_mcp_servers({}, MCP_PLAN)
    both = install_mcp_servers(top, MCP_PLAN, project="/other")
    assert uninstall_mcp_servers(both, MCP_PLAN, project=ROOT) == both
    assert uninstall_mcp_servers(both, MCP_PLAN, project="/other") == top


@pytest.mark.parametrize(
    "document, message",
    [
        ({"projects": []}, '"projects" is not a JSON object'),
        ({"projects": {ROOT: "x"}}, f'"projects"."{ROOT}" is not a JSON object'),
        ({"projects": {ROOT: {"mcpServers": []}}}, f'"projects"."{ROOT}"."mcpServers"'),
    ],
)
def test_refuses_project_entries_of_the_wrong_shape(document, message):
    with pytest.raises(SettingsFormatError, match=message):
        validate_mcp_config(document, project=ROOT)
    with pytest.raises(SettingsFormatError):
        install_mcp_servers(document, MCP_PLAN, project=ROOT)
    validate_mcp_config({"projects": {"/other": "x"}}, project=ROOT)  # not ours to judge


def test_the_bare_command_is_recognised_like_a_path():
    bare = Plan(command=hook_command(None), mcp_servers={MCP_SERVER_NAME: mcp_server_entry(None)})
    assert bare.command == "recall hook"
    assert bare.mcp_servers[MCP_SERVER_NAME] == {
        "type": "stdio",
        "command": "recall",
        "args": ["mcp"],
        "env": {},
    }
    by_path = install(install_mcp_servers({}, MCP_PLAN), PLAN)
    replaced = install(install_mcp_servers(by_path, bare), bare)  # an old install by path
    assert replaced["mcpServers"][MCP_SERVER_NAME]["command"] == "recall"
    assert {e["command"] for g in replaced["hooks"]["Stop"] for e in g["hooks"]} == {"recall hook"}
    assert uninstall(uninstall_mcp_servers(replaced, bare)) == {}
