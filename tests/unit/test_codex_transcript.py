"""Codex rollouts parse into the same events as Claude Code transcripts, and compress into
the same kinds of memory: requests, answers, shell commands with their outcome, files a patch
changed, a compaction's summary; Codex's own instructions are not what the person typed."""

from __future__ import annotations

import json
from pathlib import Path

from contextrecall.compression import compress
from contextrecall.memory import ParseReport
from contextrecall.transcript import (
    AssistantMessage,
    CompactionSummary,
    SessionInfo,
    ToolResult,
    UserPrompt,
    detect_format,
    iter_events,
)
from contextrecall.transcript.codex import patch_calls, shell_command, shell_patch

SESSION = "0199a213-81c0-7800-8aa1-bbab2a035a53"
PATCH = """*** Begin Patch
*** Update File: src/ledger/close.py
@@ def close_day(day):
-    run_close(day)
+    with advisory_lock("ledger-close"):
+        run_close(day)
*** Add File: docs/close.md
+# Nightly close
+Runs under a PostgreSQL advisory lock.
*** End Patch
"""


def line(kind: str, payload: dict, at: str = "2026-12-01T09:00:00.000Z") -> dict:
    return {"timestamp": at, "type": kind, "payload": payload}


def message(role: str, text: str) -> dict:
    item = "input_text" if role == "user" else "output_text"
    return {"type": "message", "role": role, "content": [{"type": item, "text": text}]}


def rollout() -> list[dict]:
    """A Codex 0.171 session as its rollout records it (codex-rs RolloutLine shapes)."""
    return [
        line(
            "session_meta",
            {
                "id": SESSION,
                "timestamp": "2026-12-01T09:00:00.000Z",
                "cwd": "/home/dev/ledger",
                "originator": "codex_exec",
                "cli_version": "0.171.0",
                "git": {"commit_hash": "3f2a9c1", "branch": "fix/close", "repository_url": None},
            },
        ),
        line("response_item", message("developer", "<permissions instructions>sandbox")),
        line(
            "response_item", message("user", "<environment_context>\n  <cwd>/home/dev/ledger</cwd>")
        ),
        line("turn_context", {"cwd": "/home/dev/ledger", "model": "gpt-5.1-codex"}),
        line("response_item", message("user", "Why does the nightly close run twice?")),
        line(
            "event_msg",
            {"type": "user_message", "message": "Why does the nightly close run twice?"},
        ),
        line(
            "response_item",
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Check the cron."}]},
        ),
        line(
            "response_item",
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": "pytest tests/test_close.py -q", "workdir": "."}),
                "call_id": "call_1",
            },
        ),
        line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "call_1",
                "output": "Process exited with code 1\nOutput:\nFAILED test_close_once - twice",
            },
        ),
        line(
            "response_item",
            {
                "type": "custom_tool_call",
                "name": "apply_patch",
                "input": PATCH,
                "call_id": "call_2",
                "status": "completed",
            },
        ),
        line(
            "response_item",
            {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Success."},
        ),
        line(
            "response_item",
            {
                "type": "local_shell_call",
                "call_id": "call_3",
                "status": "completed",
                "action": {
                    "type": "exec",
                    "command": ["bash", "-lc", "git commit -am 'Lock the close'"],
                },
            },
        ),
        line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "call_3",
                "output": json.dumps(
                    {"output": "[fix/close 9b1d2e0] Lock the close", "metadata": {"exit_code": 0}}
                ),
            },
        ),
        line(
            "response_item",
            message(
                "assistant",
                "I decided to take a PostgreSQL advisory lock around the close because two "
                "schedulers start it.",
            ),
        ),
        line("compacted", {"message": "Summary: the close now runs under an advisory lock."}),
    ]


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))
    return path


def test_a_rollout_is_detected_and_parsed_into_the_shared_events(tmp_path):
    path = write(tmp_path / f"rollout-2026-12-01T09-00-00-{SESSION}.jsonl", rollout())
    assert detect_format(path) == "codex"
    events = list(iter_events(path))
    info = [e for e in events if isinstance(e, SessionInfo)]
    assert (info[0].session_id, info[0].cwd, info[0].branch) == (
        SESSION,
        "/home/dev/ledger",
        "fix/close",
    )
    prompts = [(e.kind, e.text) for e in events if isinstance(e, UserPrompt)]
    assert prompts == [
        ("meta", "<environment_context>\n  <cwd>/home/dev/ledger</cwd>"),
        ("typed", "Why does the nightly close run twice?"),  # once: the event_msg copy is left out
    ]
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [(r.call.name, r.is_error) for r in results] == [
        ("Bash", True),
        ("Edit", False),
        ("Write", False),
        ("Bash", False),
    ]
    assert results[0].call.input == {"command": "pytest tests/test_close.py -q"}
    assert results[3].call.input == {"command": "git commit -am 'Lock the close'"}
    assert any(isinstance(e, CompactionSummary) for e in events)
    assert any(isinstance(e, AssistantMessage) and "advisory lock" in e.text for e in events)


def test_a_rollout_compresses_like_a_claude_code_session(tmp_path):
    path = write(tmp_path / "rollout.jsonl", rollout())
    report = ParseReport()
    memory = compress(iter_events(path, "codex", 0, report), "codex", report)
    assert memory.branch == "fix/close"
    assert memory.first_request == "Why does the nightly close run twice?"
    commands = {c.command: c.outcome for c in memory.commands}
    assert commands["pytest tests/test_close.py -q"].endswith("failed")
    assert commands["git commit -am 'Lock the close'"] != "failed"
    assert {f.path for f in memory.files} >= {"src/ledger/close.py", "docs/close.md"}
    assert any("advisory lock" in d.text for d in memory.decisions)
    assert any("9b1d2e0" in c for c in memory.commits)


def test_shell_commands_and_patches_in_every_shape_codex_writes():
    assert shell_command('{"cmd": "ls -la"}') == "ls -la"
    assert shell_command({"command": ["bash", "-lc", "make test"]}) == "make test"
    assert shell_command({"command": ["git", "status", "--short"]}) == "git status --short"
    assert shell_command({"command": "npm run build"}) == "npm run build"
    assert shell_command("not json") == "not json"
    assert shell_command({"nothing": 1}) is None
    calls = patch_calls("c", PATCH)
    assert [(c.name, c.input["file_path"]) for c in calls] == [
        ("Edit", "src/ledger/close.py"),
        ("Write", "docs/close.md"),
    ]
    assert "advisory_lock" in calls[0].input["new_string"]
    assert "run_close(day)" in calls[0].input["old_string"]
    assert calls[1].input["content"].startswith("# Nightly close")


def test_a_patch_run_through_the_shell_is_the_files_it_changes(tmp_path):
    heredoc = f"apply_patch << 'PATCH'\n{PATCH}PATCH"
    assert shell_patch({"command": ["bash", "-lc", heredoc]}) == PATCH.rstrip("\n")
    assert shell_patch({"command": ["apply_patch", PATCH]}) == PATCH
    assert shell_patch(json.dumps({"cmd": heredoc})) == PATCH.rstrip("\n")
    assert shell_patch({"command": ["bash", "-lc", "echo apply_patch"]}) is None
    assert shell_patch({"command": ["bash", "-lc", "cat <<EOF > a.txt\nx\nEOF"]}) is None
    shell = {"command": ["bash", "-lc", heredoc], "workdir": "/home/dev/ledger"}
    lines = [
        *rollout()[:5],
        line(
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "arguments": json.dumps(shell),
                "call_id": "call_9",
            },
        ),
        line(
            "response_item",
            {"type": "function_call_output", "call_id": "call_9", "output": "Success."},
        ),
    ]
    report = ParseReport()
    path = write(tmp_path / "rollout.jsonl", lines)
    memory = compress(iter_events(path, "codex", 0, report), "codex", report)
    assert {f.path for f in memory.files} == {"src/ledger/close.py", "docs/close.md"}
    assert not any("apply_patch" in c.command for c in memory.commands)


def test_lines_that_are_not_a_rollouts_are_counted_not_fatal(tmp_path):
    path = write(tmp_path / "odd.jsonl", [rollout()[0], {"type": "response_item", "payload": 3}])
    report = ParseReport()
    events = list(iter_events(path, "codex", 0, report))
    assert len(events) == 1 and report.skipped


REAL = Path(__file__).resolve().parents[1] / "clients" / "transcripts" / "codex-tool-turn.jsonl"


def test_a_rollout_the_real_codex_wrote_parses_to_its_turn():
    """``codex exec "[bash: echo hello-codex]"`` (Codex 0.171.0, against the Responses
    stand-in of tests/clients), as it wrote its rollout: Codex's instructions and the
    session-start block a hook gave it are not the person's words."""
    events = list(iter_events(REAL))
    typed = [e.text for e in events if isinstance(e, UserPrompt) and e.kind == "typed"]
    assert typed == ["[bash: echo hello-codex]"]
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.call.input == {"command": "echo hello-codex"}
    assert result.content.strip() == "hello-codex" and not result.is_error
    said = [e.text for e in events if isinstance(e, AssistantMessage) and e.text]
    assert said == ["Finished. The output was: hello-codex"]
    assert "MEMORY-BLOCK-42" not in json.dumps([str(e) for e in events])


def test_codexs_plan_is_its_todo_list_and_gives_the_next_steps(tmp_path):
    plan = [
        {"step": "Reproduce the double close", "status": "completed"},
        {"step": "Take an advisory lock", "status": "in_progress"},
        {"step": "Document the lock in docs/close.md", "status": "pending"},
    ]
    call = {
        "type": "function_call",
        "name": "update_plan",
        "arguments": json.dumps({"explanation": "Lock first.", "plan": plan}),
        "call_id": "call_plan",
    }
    lines = [
        *rollout()[:5],
        line("response_item", call),
        line(
            "response_item",
            {"type": "function_call_output", "call_id": "call_plan", "output": "Plan updated"},
        ),
    ]
    report = ParseReport()
    memory = compress(
        iter_events(write(tmp_path / "r.jsonl", lines), "codex", 0, report), "codex", report
    )
    assert memory.state.next_actions == [
        "Take an advisory lock",
        "Document the lock in docs/close.md",
    ]
    assert memory.state.progress_percentage == 33


def answered(call: dict, output: object) -> list[dict]:
    """A tool call and its output, as a rollout records them."""
    kind = f"{call['type']}_output"
    return [
        line("response_item", call),
        line("response_item", {"type": kind, "call_id": call["call_id"], "output": output}),
    ]


def shell_call(call_id: str, command: str, output: str) -> list[dict]:
    """A ``shell`` function call and its output, as Codex 0.34 records them."""
    arguments = json.dumps({"command": ["bash", "-lc", command]})
    call = {"type": "function_call", "name": "shell", "arguments": arguments, "call_id": call_id}
    return answered(call, output)


def test_a_command_the_sandbox_reports_as_denied_is_its_exit_code_and_output(tmp_path):
    """Codex's Linux sandbox reports every non-zero exit as "sandbox denied exec error, exit
    code: N, stdout: …, stderr: …": the command ran and failed with its own error, which a fix
    then keeps; a patch it reports so did not apply, and changed no file. A command that timed
    out failed too."""
    denied = "failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error, "
    collection = (
        "\n==== ERRORS ====\nE   json.decoder.JSONDecodeError: Expecting ',' delimiter: "
        "line 221 column 9 (char 9490)\n7 errors in 0.49s\n"
    )
    bad_patch = PATCH.replace("src/ledger/close.py", "src/ledger/missing.py")
    lines = [
        *rollout()[:5],
        *shell_call("c1", "pytest -q", f"{denied}exit code: 2, stdout: {collection}, stderr: "),
        *shell_call(
            "c2",
            f"apply_patch << 'PATCH'\n{bad_patch}",
            f"{denied}exit code: 1, stdout: , stderr: bash: line 9: warning: here-document "
            "at line 1 delimited by end-of-file (wanted `PATCH')\nFailed to find expected "
            "lines in src/ledger/missing.py",
        ),
        *shell_call("c3", f"apply_patch << 'PATCH'\n{PATCH}PATCH", "Success."),
        *shell_call("c4", "pytest -q", json.dumps({"output": "3 passed", "metadata": {}})),
        *shell_call(
            "c5", "git push", "failed in sandbox None with execution error: command timed out"
        ),
    ]
    path = write(tmp_path / "rollout.jsonl", lines)
    results = [e for e in iter_events(path, "codex") if isinstance(e, ToolResult)]
    assert results[0].is_error and results[0].content.startswith("==== ERRORS")
    assert "sandbox" not in results[0].content
    assert results[-1].is_error and results[-1].content == "command timed out"
    report = ParseReport()
    memory = compress(iter_events(path, "codex", 0, report), "codex", report)
    assert "src/ledger/missing.py" not in {f.path for f in memory.files}
    fixes = [s.content for s in memory.snippets if s.category == "fix"]
    assert any("Expecting ',' delimiter: line 221 column 9" in fix for fix in fixes)


def script_call(call_id: str, script: str, output: str) -> list[dict]:
    """A code-mode ``exec`` cell and its output, as Codex 0.144 records them."""
    call = {"type": "custom_tool_call", "name": "exec", "call_id": call_id, "input": script}
    return answered(call, [{"type": "input_text", "text": output}])


def test_a_code_mode_cell_is_the_commands_and_patches_it_runs(tmp_path):
    """Codex's code mode runs JavaScript cells that call the other tools: a cell's
    ``exec_command`` commands are shell commands with the cell's output (its printed exit code
    when it printed one), its ``apply_patch`` patches are the files they change, and a cell
    still running ends with the output of the ``wait`` call that waited on it."""
    build = (
        'const r = await tools.exec_command({cmd:"cargo test --all",'
        '"workdir":"/home/dev/ledger","yield_time_ms":10000});text(r.output)\n'
    )
    both = (
        'const [a, b] = await Promise.all([tools.exec_command({cmd:"git status --short"}),\n'
        '  tools.exec_command({cmd:"cargo fmt --check"})]); text(a.output + b.output)\n'
    )
    patch = f"const patch = {json.dumps(PATCH)};\nawait tools.apply_patch(patch);\ntext('ok')\n"
    failed = json.dumps({"exit_code": 101, "output": "error[E0425]: cannot find value `lock`"})
    wait = {"cell_id": "7", "yield_time_ms": 1000}
    lines = [
        *rollout()[:5],
        *script_call("c1", build, f"Script completed\nWall time 3.1 seconds\nOutput:\n{failed}"),
        *script_call("c2", patch, "Script completed\nWall time 0.1 seconds\nOutput:\nok"),
        *script_call("c4", both, "Script completed\nWall time 0.4 seconds\nOutput:\n M src/lib.rs"),
        *script_call(
            "c3", build, "Script running with cell ID 7\nWall time 10.0 seconds\nOutput:\n"
        ),
        line(
            "response_item",
            {
                "type": "function_call",
                "name": "wait",
                "arguments": json.dumps(wait),
                "call_id": "w1",
            },
        ),
        line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "w1",
                "output": "Script completed\nWall time 9.0 s\nOutput:\ntest result: ok. 12 passed",
            },
        ),
    ]
    path = write(tmp_path / "rollout.jsonl", lines)
    results = [e for e in iter_events(path, "codex") if isinstance(e, ToolResult)]
    assert [(r.call.name, r.is_error) for r in results] == [
        ("Bash", True),
        ("Edit", False),
        ("Write", False),
        ("Bash", False),
        ("Bash", False),
        ("Bash", False),
    ]
    assert [r.call.input["command"] for r in results[3:5]] == [
        "git status --short",
        "cargo fmt --check",
    ]
    assert results[0].content == "error[E0425]: cannot find value `lock`"
    report = ParseReport()
    memory = compress(iter_events(path, "codex", 0, report), "codex", report)
    assert {f.path for f in memory.files} == {"src/ledger/close.py", "docs/close.md"}
    run = next(c for c in memory.commands if c.command == "cargo test --all")
    assert run.outcome == "tests-passed" and run.resolved


def test_a_cell_reading_on_from_a_running_command_is_that_command(tmp_path):
    """A long command's output comes in later cells (``tools.write_stdin({session_id})``):
    it is that command's, found by the session id its cell printed (else the command started
    last); a Rust error in it means the command failed, with no exit code printed."""
    start = (
        'const r = await tools.exec_command({cmd:"cargo clippy -- -D warnings",'
        '"yield_time_ms":1000}); text(r.output);\n'
        "if (r.session_id) text(`SESSION_ID=${r.session_id}`)\n"
    )
    poll = 'const r = await tools.write_stdin({session_id:55001,chars:""}); text(r.output)\n'
    clippy = "error: this `if` statement can be collapsed\n   --> src/step/output.rs:131:9"
    lines = [
        *rollout()[:5],
        *script_call(
            "c1",
            start,
            "Script completed\nWall time 1.2 s\nOutput:\n   Compiling hk\nSESSION_ID=55001",
        ),
        *script_call("c2", poll, f"Script completed\nWall time 9.0 s\nOutput:\n{clippy}"),
    ]
    report = ParseReport()
    path = write(tmp_path / "rollout.jsonl", lines)
    memory = compress(iter_events(path, "codex", 0, report), "codex", report)
    (run,) = memory.commands
    assert run.command == "cargo clippy -- -D warnings"
    assert run.outcome == "failed" and "can be collapsed" in (run.error or "")
