"""Compression: small hand-written sessions in, a dense and redacted memory out."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest

from contextrecall.compression import (
    TranscriptError,
    compress,
    compress_file,
    render_summary_block,
)
from contextrecall.compression.commands import worktree_added
from contextrecall.compression.excerpts import excerpt
from contextrecall.memory import SessionMemory
from contextrecall.transcript import parse_file
from tests.support import shared_transcript

CWD = "/home/dev/shop"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


shared = shared_transcript


class Transcript:
    """Builds a Claude Code 2.x transcript line by line."""

    def __init__(self, branch: str = "feature/cart", cwd: str = CWD) -> None:
        self.lines: list[dict[str, object]] = []
        self.branch = branch
        self.cwd = cwd
        self._ids = 0

    def _base(self, kind: str) -> dict[str, object]:
        return {
            "type": kind,
            "sessionId": "sess-1",
            "cwd": self.cwd,
            "gitBranch": self.branch,
            "timestamp": f"2026-02-11T10:{len(self.lines) % 60:02d}:00Z",
        }

    def user(self, content: object, **extra: object) -> Transcript:
        self.lines.append(
            {**self._base("user"), "message": {"role": "user", "content": content}, **extra}
        )
        return self

    def say(self, text: str) -> Transcript:
        self._ids += 1
        self.lines.append(
            {
                **self._base("assistant"),
                "message": {
                    "id": f"msg_{self._ids}",
                    "role": "assistant",
                    "content": [{"type": "text", "text": text}],
                },
            }
        )
        return self

    def tool(
        self,
        name: str,
        tool_input: dict[str, object],
        result: str = "ok",
        is_error: bool = False,
        details: object = None,
    ) -> Transcript:
        self._ids += 1
        tool_id = f"toolu_{self._ids}"
        self.lines.append(
            {
                **self._base("assistant"),
                "message": {
                    "id": f"msg_{self._ids}",
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
                    ],
                },
            }
        )
        line = {
            **self._base("user"),
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": tool_id,
                        "content": result,
                        "is_error": is_error,
                    }
                ],
            },
        }
        if details is not None:
            line["toolUseResult"] = details
        self.lines.append(line)
        return self

    def bash(self, command: str, output: str, is_error: bool = False) -> Transcript:
        return self.tool("Bash", {"command": command}, output, is_error)

    def edit(self, path: str) -> Transcript:
        return self.tool(
            "Edit",
            {"file_path": f"{CWD}/{path}", "old_string": "a", "new_string": "b"},
            "The file has been updated.",
        )

    def write(self, path: str, content: str = "x = 1\n", created: bool = True) -> Transcript:
        kind = "create" if created else "update"
        return self.tool(
            "Write",
            {"file_path": f"{CWD}/{path}", "content": content},
            "File created successfully" if created else "The file has been updated",
            details={"type": kind, "filePath": f"{CWD}/{path}"},
        )

    def save(self, path: Path) -> Path:
        path.write_text("".join(json.dumps(line) + "\n" for line in self.lines))
        return path

    def memory(self, tmp_path: Path) -> SessionMemory:
        return compress_file(self.save(tmp_path / "session.jsonl"))


def all_text(memory: SessionMemory) -> str:
    return json.dumps(memory.to_dict(), ensure_ascii=False)


# -- decisions -----------------------------------------------------------------------------


def test_decision_keeps_rationale_alternatives_and_impact(tmp_path):
    memory = (
        Transcript()
        .user("Store carts somewhere durable")
        .say("I decided to use PostgreSQL instead of SQLite because we need concurrent writes.")
        .memory(tmp_path)
    )
    decision = memory.decisions[0]
    assert decision.text.startswith("I decided to use PostgreSQL instead of SQLite")
    assert decision.rationale == "we need concurrent writes"
    assert decision.alternatives == ["SQLite"]
    assert decision.impact == "high"  # a storage / database choice


def test_narration_questions_and_announcements_are_not_decisions(tmp_path):
    memory = (
        Transcript()
        .user("look around")
        .say("Let me read the file instead of guessing. Should we use Redis instead of Memcached?")
        .say("I can see the code uses tabs instead of spaces.")
        .say("What I would recommend instead of the cron job:\n- a systemd timer")
        .memory(tmp_path)
    )
    assert memory.decisions == []


def test_code_about_deciding_is_not_a_decision(tmp_path):
    memory = (
        Transcript()
        .user("explain the auto-commit check")
        .say("Let me fix the decision logic. The actual decision happens at Stop time.")
        .say("Final decision: whether an auto-commit would be triggered and why.")
        .say("We decided to parse the transcript at Stop time because git status misses renames.")
        .memory(tmp_path)
    )
    assert [d.text for d in memory.decisions] == [
        "We decided to parse the transcript at Stop time because git status misses renames."
    ]


def test_person_instruction_is_a_requirement_decision(tmp_path):
    memory = Transcript().user("Let's use ruff instead of flake8 for linting.").memory(tmp_path)
    decision = memory.decisions[0]
    assert decision.decision_type == "requirement"
    assert decision.alternatives == ["flake8 for linting"] or decision.alternatives == ["flake8"]


def test_answered_question_and_approved_plan_become_decisions(tmp_path):
    question = {
        "question": "Which queue should jobs use?",
        "header": "Queue",
        "options": [{"label": "Redis"}, {"label": "RabbitMQ"}],
        "multiSelect": False,
    }
    memory = (
        Transcript()
        .user("set up background jobs")
        .tool(
            "AskUserQuestion",
            {"questions": [question]},
            'User has answered your questions: "Which queue should jobs use?"="Redis".',
        )
        .tool(
            "ExitPlanMode",
            {},
            "User has approved exiting plan mode.",
            details={"plan": "# Add Celery workers\n- broker on Redis\n- beat for decay"},
        )
        .memory(tmp_path)
    )
    kinds = {d.decision_type: d for d in memory.decisions}
    assert kinds["user-choice"].text == "Which queue should jobs use? → Redis"
    assert kinds["user-choice"].alternatives == ["RabbitMQ"]
    assert kinds["plan"].text == "Plan: Add Celery workers"
    assert "broker on Redis" in kinds["plan"].rationale
    assert memory.state.phase == "planning"


def test_the_notes_written_beside_an_answer_are_kept_as_its_why(tmp_path):
    """Claude Code 2.1.2xx keeps the notes a person writes beside an answer (or instead of
    one: "(notes only)") in ``annotations``: their own words, kept with the decision and in
    the exchange's memory."""
    asked = [
        {"question": "How much of the verdict lands in the repo?", "options": [{"label": "All"}]},
        {"question": "Which shell?", "options": [{"label": "pwsh"}, {"label": "bash"}]},
    ]
    details = {
        "answers": {
            "How much of the verdict lands in the repo?": "(notes only)",
            "Which shell?": "pwsh",
        },
        "annotations": {
            "How much of the verdict lands in the repo?": {"notes": "Cite it like a paper."},
            "Which shell?": {"notes": "7.4 or later", "preview": "pwsh -NoProfile"},
        },
    }
    memory = (
        Transcript()
        .user("land the verdicts")
        .tool("AskUserQuestion", {"questions": asked}, "The user answered.", details=details)
        .memory(tmp_path)
    )
    choices = {d.text: d.rationale for d in memory.decisions}
    assert choices["How much of the verdict lands in the repo? → Cite it like a paper."] == (
        "the user: Cite it like a paper."
    )
    assert choices["Which shell? → pwsh"] == "the user: 7.4 or later"
    (answered,) = [s.content for s in memory.snippets if s.content.startswith("The user answered")]
    assert answered.splitlines()[1:] == [
        "How much of the verdict lands in the repo? → Cite it like a paper.",
        "Which shell? → pwsh",
        "  notes: 7.4 or later",
    ]


# -- state, todos, files -------------------------------------------------------------------


def test_the_outcome_is_the_last_reports_prose_without_its_rules_and_tables(tmp_path):
    report = (
        "All checks pass. Here's a summary of the changes:\n\n---\n\n## Summary\n\n"
        "| Scenario | Old | New |\n|----------|:---:|-----|\n| **Orphaned** | error | reset |\n\n"
        "**Code changes:**\n- Modified `InitializeSession()` to reset orphaned branches\n"
    )
    memory = Transcript().user("handle orphaned branches").say(report).memory(tmp_path)
    summary = memory.state.summary or ""
    assert summary.startswith("All checks pass. Here's a summary of the changes: Summary")
    assert "Modified `InitializeSession()` to reset orphaned branches" in summary
    assert "---" not in summary and "|" not in summary and "Orphaned" not in summary


def test_a_long_outcome_keeps_the_reports_opening_and_its_closing(tmp_path):
    findings = " ".join(
        f"Finding {n}: the reviewer reproduced the probe and measured it again." for n in range(20)
    )
    report = (
        "Verdict landed and pushed. The fix cycle is running on the same branch.\n\n"
        f"## Findings\n\n{findings}\n\n## Position\n\n"
        "A delta review of the fix follows, not a fresh round. "
        "If you'd rather file both findings as tickets and merge nothing, say so."
    )
    memory = Transcript().user("land the verdict").say(report).memory(tmp_path)
    summary = memory.state.summary or ""
    assert summary.startswith("Verdict landed and pushed. The fix cycle is running")
    assert summary.endswith(
        "If you'd rather file both findings as tickets and merge nothing, say so."
    )
    assert "A delta review of the fix follows" in summary and " … " in summary
    assert "Finding 10:" not in summary and len(summary) <= 800  # the middle goes
    short = Transcript().user("land it").say("Landed. Say if you want tickets.").memory(tmp_path)
    assert short.state.summary == "Landed. Say if you want tickets."


def test_last_todo_list_gives_next_actions_and_progress(tmp_path):
    old = [{"content": "Sketch API", "status": "pending", "activeForm": "Sketching"}]
    todos = [
        {"content": "Write cart model", "status": "completed", "activeForm": "Writing"},
        {"content": "Add checkout endpoint", "status": "pending", "activeForm": "Adding"},
        {"content": "Wire payment provider", "status": "in_progress", "activeForm": "Wiring"},
        {"content": "Blocked on API keys from finance", "status": "pending", "activeForm": "-"},
    ]
    memory = (
        Transcript()
        .user("build checkout")
        .tool("TodoWrite", {"todos": old}, "Todos have been modified successfully.")
        .tool("TodoWrite", {"todos": todos}, "Todos have been modified successfully.")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == [
        "Wire payment provider",
        "Add checkout endpoint",
        "Blocked on API keys from finance",
    ]
    assert memory.state.progress_percentage == 25
    assert memory.state.blockers == ["Blocked on API keys from finance"]
    block = render_summary_block(memory)
    assert "Wire payment provider" in block and "Add checkout endpoint" in block


def test_without_a_todo_list_next_steps_come_from_the_final_message(tmp_path):
    memory = (
        Transcript()
        .user("start the migration")
        .say("I need to do a few things first.")
        .say("Done with the schema.\n\n**Next steps:**\n- Backfill old rows\n- Drop the column")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == ["Backfill old rows", "Drop the column"]


def test_the_newest_report_naming_what_is_left_gives_the_next_steps_tables_too(tmp_path):
    report = (
        "Quick task done.\n\n**Before next staging deploy, you need to configure:**\n\n"
        "| Where | What |\n|---|---|\n| **SendGrid** | Verify sender `noreply@shop.io` |\n"
        "| **GitHub env** | `SENDGRID_API_KEY` |"
    )
    memory = (
        Transcript()
        .user("wire sendgrid")
        .say(report)
        .user("is the client secret needed?")
        .say("No: only the client id is used by the popup flow.")
        .say("Updated both `.env.example` files.")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == [
        "Before next staging deploy, you need to configure",
        "SendGrid: Verify sender `noreply@shop.io`",
        "GitHub env: `SENDGRID_API_KEY`",
    ]


def test_a_bare_youll_need_to_heading_gives_its_bullets_as_next_steps(tmp_path):
    memory = (
        Transcript()
        .user("ship it")
        .say("Shipped.\n\nYou'll need to:\n- rotate the key")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == ["rotate the key"]


def test_what_a_report_says_is_next_and_the_offer_it_ends_with_are_next_steps(tmp_path):
    report = (  # a curly apostrophe, as agents type it
        "Added the KISSlicer exporter. All tests pass: 51 passed.\n\nWhat\u2019s next\n"
        "- Add KISSlicer import tests.\n- Expand the ideaMaker mappings.\n\n"
        "Would you like me to add the tests, or a preset manager for the Slice dialog?"
    )
    memory = Transcript().user("add kisslicer").say(report).memory(tmp_path)
    assert memory.state.next_actions == [
        "Add KISSlicer import tests.",
        "Expand the ideaMaker mappings.",
        "Would you like me to add the tests, or a preset manager for the Slice dialog?",
    ]
    closing = "Done: the docs build.\n\nIf you want, I can also publish them to Pages."
    plain = "Done: the docs build. Pages publishes them on each push."
    assert Transcript().user("docs").say(closing).memory(tmp_path).state.next_actions == [
        "If you want, I can also publish them to Pages."
    ]
    assert Transcript().user("docs").say(plain).memory(tmp_path).state.next_actions == []


def test_a_question_the_last_report_ends_with_is_a_next_step_in_any_language(tmp_path):
    """A report's last paragraph asking the person something is what comes next, whatever
    the language; it adds to the steps an earlier report listed instead of replacing them."""
    listed = "Released 2.0.1.\n\nNext steps:\n- Bump the actions off Node 20.\n- Pin the SDK."
    asked = (
        "PR #7 ist offen, alle 7 Checks grün.\n\n"
        "Soll ich mergen? Danach geht der Tag `v2.1.0` raus."
    )
    memory = Transcript().user("release").say(listed).user("weiter").say(asked).memory(tmp_path)
    assert memory.state.next_actions == [
        "Bump the actions off Node 20.",
        "Pin the SDK.",
        "Soll ich mergen? Danach geht der Tag `v2.1.0` raus.",
    ]
    reply = Transcript().user("weiter").say(asked).user("ja").say("Gemergt.").memory(tmp_path)
    assert reply.last_request == "ja → Soll ich mergen? Danach geht der Tag `v2.1.0` raus."


def test_an_offer_the_person_answered_is_no_longer_a_next_step(tmp_path):
    """The agent's question ("Option 1 or option 3?") is what is next only until the person
    replies: a session that went on past it does not end on it."""
    asked = "Two ways to fix the Purpose line.\n\nDo you want option 1 or option 3?"
    memory = (
        Transcript()
        .user("review the change")
        .say(asked)
        .user("option 1.")
        .say("Edited the Purpose line directly.")
        .user("archive it")
        .say("Archived and staged; committing now.")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == []
    ended = Transcript().user("review the change").say(asked).memory(tmp_path)
    assert ended.state.next_actions == ["Do you want option 1 or option 3?"]


def test_a_bare_reply_is_the_request_with_the_offer_it_answered(tmp_path):
    offer = "Want me to add the Slice dialog, or deeper ideaMaker mappings?"
    memory = (
        Transcript()
        .user("add kisslicer")
        .say(f"Added the exporter.\n\n{offer}")
        .user("yes")
        .say("Added the Slice dialog.")
        .memory(tmp_path)
    )
    assert memory.last_request == f"yes → {offer}"
    assert any(f"Asked: yes → {offer}" in s.content for s in memory.snippets)  # and searchable
    asked = Transcript().user("add kisslicer").say(f"Added it.\n\n{offer}")
    memory = asked.user("add the dialog and remember the last model path").memory(tmp_path)
    assert memory.last_request == "add the dialog and remember the last model path"


@pytest.mark.parametrize(
    "heading",
    [
        "Remaining `[:7]` usages (intentionally left as-is):",
        "Here's what you need to know:",
        "To do this, I'll:",
        "Here is what you need to know.",
    ],
)
def test_a_heading_that_names_no_pending_work_gives_no_next_steps(tmp_path, heading):
    memory = (
        Transcript().user("tidy").say(f"{heading}\n- Display strings\n- Tests").memory(tmp_path)
    )
    assert memory.state.next_actions == []


def test_a_planning_files_next_line_is_a_next_step_until_an_edit_changes_it(tmp_path):
    state = f"{CWD}/.planning/STATE.md"
    numbered = (
        "   1→# State\n   2→Stopped at: phase 12 done\n   3→Next: Phase 12.1 — run /plan 12.1\n"
    )
    transcript = (
        Transcript()
        .user("where are we")
        .tool("Read", {"file_path": state}, numbered)
        .tool("Read", {"file_path": state, "offset": 1, "limit": 1}, "   1→# State\n")
    )
    read = transcript.memory(tmp_path)
    assert read.state.next_actions == ["Phase 12.1 — run /plan 12.1 (.planning/STATE.md)"]
    edited = transcript.tool(
        "Edit",
        {
            "file_path": state,
            "old_string": "Next: Phase 12.1 — run /plan 12.1",
            "new_string": "Next: ship 12.1",
        },
        "The file has been updated.",
    ).memory(tmp_path)
    assert edited.state.next_actions == ["ship 12.1 (.planning/STATE.md)"]
    source = (
        Transcript().user("read").tool("Read", {"file_path": f"{CWD}/app.js"}, "  1→next: null")
    )
    assert source.memory(tmp_path).state.next_actions == []


def test_task_tools_track_open_tasks(tmp_path):
    memory = (
        Transcript()
        .user("plan the work")
        .tool(
            "TaskCreate",
            {"subject": "Add index", "description": "d"},
            "Task #1 created successfully: Add index",
        )
        .tool(
            "TaskCreate",
            {"subject": "Drop old table", "description": "d"},
            "Task #2 created successfully: Drop old table",
        )
        .tool("TaskUpdate", {"taskId": "1", "status": "completed"}, "Updated task #1 status")
        .memory(tmp_path)
    )
    assert memory.state.next_actions == ["Drop old table"]
    assert memory.state.progress_percentage == 50


def test_files_are_ranked_by_edits_with_created_files_marked(tmp_path):
    memory = (
        Transcript()
        .user("refactor the cart")
        .tool("Read", {"file_path": f"{CWD}/README.md"}, "# Shop")
        .write("cart/model.py")
        .edit("cart/views.py")
        .edit("cart/views.py")
        .edit("cart/views.py")
        .edit("cart/model.py")
        .tool(
            "Edit",
            {"file_path": f"{CWD}/cart/urls.py", "old_string": "a", "new_string": "b"},
            "<tool_use_error>File has not been read yet.</tool_use_error>",
            is_error=True,
        )
        .memory(tmp_path)
    )
    files = [(f.path, f.edits, f.created, f.reads) for f in memory.files]
    assert files == [
        ("cart/views.py", 3, False, 0),
        ("cart/model.py", 2, True, 0),
        ("README.md", 0, False, 1),
    ]
    assert memory.state.key_files[:2] == ["cart/views.py", "cart/model.py"]


# -- commands, fixes, commits --------------------------------------------------------------


def test_failing_tests_later_passing_are_resolved_with_a_fix_snippet(tmp_path):
    memory = (
        Transcript()
        .user("make the cart tests pass")
        .bash(
            "cd /home/dev/shop && pytest tests/ 2>&1 | tail -5",
            "Exit code 1\nE   fixture 'db' not found\n1 failed, 4 passed in 0.21s",
            True,
        )
        .say("The test fails because the db fixture is missing from conftest.py.")
        .edit("tests/conftest.py")
        .bash("pytest tests/", "5 passed in 0.20s")
        .memory(tmp_path)
    )
    run = next(c for c in memory.commands if c.command == "pytest tests/")
    assert run.outcome == "tests-passed"
    assert run.resolved is True and "1 failed" in run.error
    fix = next(s for s in memory.snippets if s.category == "fix")
    assert "db fixture is missing" in fix.content
    assert "tests/conftest.py" in fix.content
    runs = [s.content for s in memory.snippets if s.category == "command"]
    # one command, however it was spelled: its failure, and its last run
    assert runs == [
        "$ pytest tests/\n-> tests failed: E fixture 'db' not found; 1 failed, 4 passed in 0.21s",
        "$ pytest tests/\n-> tests passed: 5 passed in 0.20s",
    ]
    assert "1 failed, 4 passed" in fix.content
    assert memory.state.blockers == []
    assert "testing" in memory.tags and "debugging" in memory.tags


@pytest.mark.parametrize(
    ("command", "output", "is_error", "outcome"),
    [
        ("pytest -q", "..F\n==== 1 failed, 2 passed in 0.12s ====", True, "tests-failed"),
        ("python -m pytest", "===== 12 passed, 1 skipped in 1.02s =====", False, "tests-passed"),
        ("npx jest", "Tests:       1 failed, 5 passed, 6 total", True, "tests-failed"),
        ("npm test", "Tests:       6 passed, 6 total\nTime: 1.2 s", False, "tests-passed"),
        (
            "npx vitest run",
            " Test Files  1 passed (1)\n      Tests  9 passed (9)",
            False,
            "tests-passed",
        ),
        (
            "go test ./...",
            "--- FAIL: TestCart (0.00s)\nFAIL\tshop/cart\t0.01s",
            True,
            "tests-failed",
        ),
        ("go test ./...", "ok  \tshop/cart\t0.01s", False, "tests-passed"),
        ("cargo test", "test result: FAILED. 3 passed; 1 failed; 0 ignored", True, "tests-failed"),
        ("cargo test", "test result: ok. 4 passed; 0 failed; 0 ignored", False, "tests-passed"),
        (
            "mix test",
            "Finished in 0.3 seconds\n14 doctests, 65 tests, 0 failures",
            False,
            "tests-passed",
        ),
        ("mix test 2>&1 | tail -3", "65 tests, 2 failures", False, "tests-failed"),
        ("make build", "Exit code 2\nmake: *** [build] Error 2", True, "failed"),
        ("make build", "built", False, "ok"),
        # a task runner's test task is a test run
        (
            "mise run test:ci",
            "[test:ci] $ go test ./...\nok  \tshop/cart\t0.4s",
            False,
            "tests-passed",
        ),
        (
            "pnpm --filter api test",
            "Tests:       1 failed, 3 passed, 4 total",
            True,
            "tests-failed",
        ),
        ("just test", "===== 2 passed in 0.1s =====", False, "tests-passed"),
        ("make testdata", "wrote 3 fixtures", False, "ok"),
        # piped into a filter, the tool's exit code is the filter's: the output tells
        ("pnpm build 2>&1 | tail -3", "error TS2352: bad cast\nExit status 1", False, "failed"),
        ("make all | tail -2", "make: *** [Makefile:7: all] Error 2", False, "failed"),
        ("go vet ./... | head", "exit status 1", False, "failed"),
        (
            "pnpm build | tail -2",
            "src/a.ts: error\n ELIFECYCLE  Command failed with exit code 1.",
            False,
            "failed",
        ),
        (
            "npm run build | tail -3",
            "npm ERR! code ELIFECYCLE\nnpm ERR! Exit status 2",
            False,
            "failed",
        ),
        ("yarn build | tail -2", "error Command failed with exit code 1.", False, "failed"),
        ("npm run build | tail", "built in 2s\nexit code 0", False, "ok"),
        # a test's log quoting another process's exit is not the runner's own report
        (
            "go test -v -run TestConflict ./... | tail",
            "    conflict_test.go:277: Got expected error: hook failed: exit status 1\n"
            "--- PASS: TestConflict (0.4s)\nPASS\nok  \tshop/cart\t0.41s",
            False,
            "tests-passed",
        ),
        (
            "python deploy.py | tail -2",
            "subprocess.CalledProcessError: Command '['rsync']' returned non-zero exit status 23.",
            False,
            "failed",
        ),
    ],
)
def test_command_outcomes_follow_runner_output(tmp_path, command, output, is_error, outcome):
    memory = Transcript().user("check").bash(command, output, is_error).memory(tmp_path)
    assert memory.commands[0].outcome == outcome


def test_the_commands_run_last_come_last_so_the_test_status_is_the_latest_runs(tmp_path):
    memory = (
        Transcript()
        .user("check everything")
        .bash("mise run test:ci", "ok  \tshop/cart\t0.4s")
        .bash(
            "go test -run TestTotals ./cart/", "--- FAIL: TestTotals\nFAIL\tshop/cart\t0.1s", True
        )
        .edit("cart/totals.go")
        .bash("go test -run TestTotals ./cart/", "ok  \tshop/cart\t0.1s")
        .bash("mise run test:ci", "ok  \tshop/cart\t0.4s")
        .memory(tmp_path)
    )
    tests = [c.command for c in memory.commands if c.outcome.startswith("tests-")]
    assert tests[-1] == "mise run test:ci"  # run first, and last: the suite's status now


def test_go_tests_are_summed_up_by_the_packages_that_ran_or_failed(tmp_path):
    output = (
        "?   \tshop/cmd\t[no test files]\n"
        "ok  \tshop/internal/cart\t3.982s\n"
        "ok  \tshop/internal/auth\t(cached)\n"
        "ok  \tshop/internal/integration_test\t18.465s\n"
    )
    memory = Transcript().user("run all").bash("mise run test:ci", output).memory(tmp_path)
    command = next(s for s in memory.snippets if s.category == "command")
    assert "go test: 3 ok (cart 3.982s, integration_test 18.465s; 1 cached)" in command.content
    failed = (
        "--- FAIL: TestTotals (0.00s)\nFAIL\nFAIL\tshop/internal/cart\t0.1s\n"
        "ok  \tshop/internal/auth\t0.2s\n"
    )
    memory = Transcript().user("run").bash("go test ./...", failed, True).memory(tmp_path)
    run = memory.commands[0]
    assert run.outcome == "tests-failed" and "1 FAIL, 1 ok (cart, auth 0.2s)" in (run.error or "")


def test_dotnet_tests_are_read_by_their_summary_in_any_language(tmp_path):
    """VSTest prints a summary line a target framework, in the machine's language but in a
    fixed order (failed, passed, skipped, total): the failures of every framework count."""
    english = (
        "Failed!  - Failed:     1, Passed:    40, Skipped:     0, Total:    41, Duration: 2 s"
        " - Words.Tests.dll (net9.0)\n"
        "Passed!  - Failed:     0, Passed:    41, Skipped:     0, Total:    41, Duration: 2 s"
        " - Words.Tests.dll (net8.0)\n"
    )
    german = (
        "Bestanden!  - Fehler:     0, erfolgreich:   277, übersprungen:     0, gesamt:   277, "
        "Dauer: 619 ms - Words.Tests.dll (net9.0)"
    )
    memory = (
        Transcript()
        .user("run the tests")
        .bash("dotnet test 2>&1 | tail -3", english)
        .bash("dotnet test -f net9.0 2>&1 | tail -3", german)
        .memory(tmp_path)
    )
    failed, passed = memory.commands
    assert failed.outcome == "tests-failed" and "Failed: 1, Passed: 40" in (failed.error or "")
    assert passed.outcome == "tests-passed" and "erfolgreich: 277" in (passed.tests or "")


def test_a_chain_keeps_the_commands_after_a_filter(tmp_path):
    """An output filter ends where the chain goes on: ``build | tail -4 && pack … | tail -5``
    is the build and the pack, without the last filter."""
    chained = (
        "rm -rf out 2>/dev/null; dotnet build -c Release 2>&1 | tail -4 && "
        "dotnet pack Words.csproj -c Release --no-build -p:Version=2.0.0 -o out 2>&1 | tail -5"
    )
    memory = (
        Transcript().user("pack it").bash(chained, "Successfully created package").memory(tmp_path)
    )
    assert [c.command for c in memory.commands] == [
        "rm -rf out; dotnet build -c Release | tail -4 && "
        "dotnet pack Words.csproj -c Release --no-build -p:Version=2.0.0 -o out"
    ]


def test_a_build_error_a_pipe_hid_is_a_failure(tmp_path):
    """``dotnet build | tail`` exits 0; its diagnostics ("error CS0518: …") say it failed."""
    output = (
        "Models/Resolved.cs(4,22): error CS0518: Predefined type "
        "'System.Runtime.CompilerServices.IsExternalInit' is not defined or imported\n"
        "    7 Error(s)"
    )
    memory = (
        Transcript()
        .user("build it")
        .bash("dotnet build -c Debug 2>&1 | tail -3", output)
        .memory(tmp_path)
    )
    run = memory.commands[0]
    assert run.outcome == "failed" and "error CS0518" in (run.error or "")


def test_a_failure_a_filter_hid_from_the_tool_is_kept_with_its_fix(tmp_path):
    error = "src/main.tsx(15,12): error TS2352: Conversion of type 'Window' may be a mistake"
    memory = (
        Transcript()
        .user("expose the stores on window")
        .bash(
            "pnpm --filter web build 2>&1 | tail -15",
            f"> tsc -b && vite build\n\n{error}\n ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL\nExit status 1",
        )
        .edit("apps/web/src/main.tsx")
        .bash("pnpm --filter web build", "built in 2.1s")
        .memory(tmp_path)
    )
    run = memory.commands[0]
    assert run.outcome == "ok" and run.resolved is True and "error TS2352" in (run.error or "")
    fix = next(s for s in memory.snippets if s.category == "fix")
    assert "error TS2352" in fix.content and "apps/web/src/main.tsx" in fix.content


def test_another_tools_error_is_kept_whole_however_long_the_exchange(tmp_path):
    denied = "Error: File access denied: /tmp/x.txt is outside allowed roots."
    memory = (
        Transcript()
        .user("upload the sample file in the browser")
        .say("Long analysis of the upload flow. " * 200)
        .tool("mcp__playwright__browser_file_upload", {"paths": ["/tmp/x.txt"]}, denied, True)
        .tool("Edit", {"file_path": "/nope.py"}, "<tool_use_error>File has not been read yet", True)
        .memory(tmp_path)
    )
    found = [s.content for s in memory.snippets if s.category == "found"]
    assert any("browser_file_upload" in f and "failed" in f and denied in f for f in found), found
    assert not any("has not been read" in f for f in found)  # how the agent used its tools


def test_a_failure_run_again_with_variables_set_before_it_is_resolved(tmp_path):
    """``pytest -q`` failing, then ``PYTHONPATH=. pytest -q`` passing: the same tests, run so
    that they work; no blocker is left."""
    memory = (
        Transcript()
        .user("run the tests")
        .bash("pytest -q", "Exit code 2\nE   ModuleNotFoundError: No module named 'opk'", True)
        .bash("PYTHONPATH=. pytest -q", "51 passed in 0.58s")
        .memory(tmp_path)
    )
    failed = next(c for c in memory.commands if c.command == "pytest -q")
    assert failed.resolved is True
    assert memory.state.blockers == []


def test_unresolved_failure_is_a_blocker_and_sets_debugging_phase(tmp_path):
    memory = (
        Transcript()
        .user("deploy it")
        .edit("deploy.sh")
        .bash(
            "npm run build",
            "Exit code 1\n> Build error occurred\n[TypeError: x is not a function]",
            True,
        )
        .memory(tmp_path)
    )
    run = memory.commands[-1]
    assert (run.outcome, run.resolved) == ("failed", False)
    assert run.error == "[TypeError: x is not a function]"
    assert memory.state.blockers == ["`npm run build` fails: [TypeError: x is not a function]"]
    assert memory.state.phase == "debugging"


def test_git_commit_output_gives_commits_and_exploration_is_not_recorded(tmp_path):
    message = "git add -A && git commit -m \"$(cat <<'EOF'\nAdd cart totals\n\nDetails\nEOF\n)\""
    memory = (
        Transcript()
        .user("commit it")
        .bash("git status", "On branch feature/cart")
        .bash("ls -la", "total 0")
        .bash(message, "[feature/cart 1a2b3c4] Add cart totals\n 2 files changed, 10 insertions(+)")
        .memory(tmp_path)
    )
    assert memory.commits == ["1a2b3c4 Add cart totals"]
    assert [c.command for c in memory.commands] == ['git add -A && git commit -m "Add cart totals"']
    assert "1a2b3c4 Add cart totals" in render_summary_block(memory)


def test_a_quiet_commit_is_the_first_entry_of_the_log_printed_after_it(tmp_path):
    quiet = (
        "git add -A && git commit -q -F - <<'EOF' && git log --oneline -1\nReject bad locales\nEOF"
    )
    memory = (
        Transcript()
        .user("commit it")
        .edit("cart/totals.py")
        .bash(quiet, "warning: LF will be replaced by CRLF\n3239db0 Reject bad locales")
        .bash("git log --oneline -2", "3239db0 Reject bad locales\n41a6775 Merge pull request #6")
        .memory(tmp_path)
    )
    assert memory.commits == ["3239db0 Reject bad locales"]  # a log alone commits nothing
    assert memory.state.phase == "committed"


def test_the_branch_a_session_switched_to_is_its_branch(tmp_path):
    """Codex names only the branch a session started on: a switch the session made, or the
    branch its commit reports, is where it is now."""
    memory = (
        Transcript(branch="")
        .user("fix it on a branch")
        .bash("git switch -c codex/fix-util", "Switched to a new branch 'codex/fix-util'")
        .memory(tmp_path)
    )
    assert memory.branch == "codex/fix-util"
    committed = "[codex/fix-two 1a2b3c4] Skip the config\n 1 file changed"
    memory = (
        Transcript(branch="").user("commit").bash("git commit -am x", committed).memory(tmp_path)
    )
    assert memory.branch == "codex/fix-two"


def test_the_files_edited_after_the_last_commit_are_uncommitted(tmp_path):
    committed = "[feature/cart 1a2b3c4] Add cart totals\n 2 files changed"
    memory = (
        Transcript()
        .user("add the totals and commit")
        .edit("cart/totals.py")
        .edit("cart/tax.py")
        .bash("git add -A && git commit -m 'Add cart totals'", committed)
        .user("also round the tax")
        .edit("cart/tax.py")
        .edit("tests/test_tax.py")
        .memory(tmp_path)
    )
    assert memory.uncommitted == ["cart/tax.py", "tests/test_tax.py"]
    never = (
        Transcript()
        .user("fix it")
        .edit("a.py")
        .edit("b.py")
        .tool("Write", {"file_path": "/home/me/.claude/plans/p.md", "content": "# Plan"}, "ok")
        .edit("a.py")
        .memory(tmp_path)
    )
    # no commit: all it edited in the project, the last last; a plan elsewhere is in none
    assert never.uncommitted == ["b.py", "a.py"]


def test_the_last_calls_a_tool_refused_are_kept_with_what_it_said(tmp_path):
    def refused(said: str) -> str:
        return f"<tool_use_error>{said}</tool_use_error>"

    memory = (
        Transcript()
        .user("launch the helpers, then fix the plan")
        .tool(
            "Task",
            {"description": "explore"},
            refused("The required parameter `prompt` is missing"),
            True,
        )
        .tool("Read", {"file_path": f"{CWD}/b.md"}, refused("Sibling tool call errored"), True)
        .tool(
            "Edit",
            {"file_path": f"{CWD}/docs/plan.md", "old_string": "x", "new_string": "y"},
            refused("String to replace not found in file."),
            True,
        )
        .memory(tmp_path)
    )
    assert memory.tool_errors == [
        "Task: The required parameter `prompt` is missing",
        "Edit docs/plan.md: String to replace not found in file.",
    ]  # a call refused only because a parallel one failed names no error of its own


def test_pull_requests_named_by_commands_and_requests_are_kept_the_last_named_last(tmp_path):
    memory = (
        Transcript()
        .user("review https://github.com/acme/shop/pull/7 first")
        .bash(
            "git push -u origin feature/cart",
            "remote: Create a pull request for 'feature/cart' on GitHub by visiting:\n"
            "remote:      https://github.com/acme/shop/pull/new/feature/cart",
        )
        .bash('gh pr create --title "Cart totals"', "https://github.com/acme/shop/pull/12")
        .bash("glab mr view", "https://gitlab.com/acme/group/shop/-/merge_requests/3 opened")
        .user("the checks on https://github.com/acme/shop/pull/12 fail")
        .memory(tmp_path)
    )
    assert memory.pull_requests == [  # a push's offer to open one is not one
        "https://github.com/acme/shop/pull/7",
        "https://gitlab.com/acme/group/shop/-/merge_requests/3",
        "https://github.com/acme/shop/pull/12",
    ]


def test_background_command_outcome_comes_from_its_output(tmp_path):
    memory = (
        Transcript()
        .user("run the suite")
        .bash("mix test", "Command running in background with ID: b12. Output is being written")
        .tool(
            "TaskOutput",
            {"task_id": "b12", "block": True},
            "<status>completed</status>\n<exit_code>0</exit_code>\n"
            "<output>Finished\n12 tests, 0 failures</output>",
        )
        .memory(tmp_path)
    )
    assert [(c.command, c.outcome) for c in memory.commands] == [("mix test", "tests-passed")]


def test_configuration_values_and_gotchas_become_snippets(tmp_path):
    memory = (
        Transcript()
        .user("configure the broker")
        .tool(
            "Write",
            {
                "file_path": f"{CWD}/config/settings.toml",
                "content": '# broker\nbroker_url = "redis://localhost:6379/0"\n',
            },
            "File created successfully",
            details={"type": "create"},
        )
        .say("Note that Celery beat must run as a single instance, or jobs run twice.")
        .memory(tmp_path)
    )
    config = next(s for s in memory.snippets if s.category == "configuration")
    assert 'broker_url = "redis://localhost:6379/0"' in config.content
    gotcha = next(s for s in memory.snippets if s.category == "gotcha")
    assert "single instance" in gotcha.content


# -- requests, branch, summary -------------------------------------------------------------


def test_first_and_last_typed_requests_skip_harness_lines(tmp_path):
    memory = (
        Transcript(branch="main")
        .user("<local-command-caveat>Caveat: local commands</local-command-caveat>")
        .user("skill instructions", isMeta=True)
        .user("Add a discount field to the cart")
        .bash("pytest", "3 passed in 0.1s")
        .user("<task-notification><status>completed</status></task-notification>")
        .user([{"type": "text", "text": "[Request interrupted by user]"}])
        .user("now rename it to coupon")
        .user("<command-name>/model</command-name><command-args></command-args>")
        .memory(tmp_path)
    )
    assert memory.first_request == "Add a discount field to the cart"
    assert memory.last_request == "now rename it to coupon"
    assert memory.branch == "main"
    assert memory.cwd == CWD
    assert memory.session_id == "sess-1"
    assert memory.title == "Add a discount field to the cart"


def test_compaction_summary_is_reused_in_the_summary(tmp_path):
    summary = (
        "This session is being continued from a previous conversation that ran out of context.\n"
        "Summary:\n1. Primary Request and Intent:\n"
        "   The user asked to migrate carts to Postgres.\n"
        "4. Errors and fixes:\n   - Alembic autogenerate missed the index: added it by hand.\n"
        "5. Problem Solving:\n   - Decided to keep UUID primary keys as CHAR(36) for MariaDB.\n"
    )
    memory = Transcript().user(summary, isCompactSummary=True).user("continue").memory(tmp_path)
    assert "The user asked to migrate carts to Postgres." in memory.summary
    assert any("added it by hand" in s.content for s in memory.snippets if s.category == "summary")
    assert any("CHAR(36)" in d.text for d in memory.decisions)


def test_summary_block_respects_its_budget_and_keeps_the_essentials(tmp_path):
    t = Transcript(branch="release/2.0").user("Ship the release: " + "details " * 200)
    for i in range(30):
        t.say(f"I decided to use approach {i} instead of approach {i + 1} because it is simpler.")
        t.edit(f"src/module_{i % 7}.py")
    memory = t.user("tag it please").memory(tmp_path)
    full = render_summary_block(memory, max_tokens=5000)
    small = render_summary_block(memory, max_tokens=200)
    assert math.ceil(len(small) / 4) <= 200 < math.ceil(len(full) / 4)
    for text in ("release/2.0", "Ship the release", "tag it please", "src/module_0.py"):
        assert text in small


def test_secrets_in_a_transcript_are_redacted_in_the_memory(tmp_path):
    memory = (
        Transcript()
        .user(f"deploy with token {GITHUB_TOKEN} please")
        .say(f"I decided to use the key {AWS_KEY} instead of the old one because it rotates.")
        .bash(
            f"GH_TOKEN={GITHUB_TOKEN} gh release create v1",
            f"error: bad token {GITHUB_TOKEN}",
            True,
        )
        .tool(
            "Write",
            {"file_path": f"{CWD}/.env", "content": f"AWS_ACCESS_KEY_ID={AWS_KEY}\n"},
            "File created successfully",
            details={"type": "create"},
        )
        .memory(tmp_path)
    )
    text = all_text(memory)
    assert GITHUB_TOKEN not in text and AWS_KEY not in text
    assert GITHUB_TOKEN[:12] not in text  # no half-cut secret survives either
    assert "[REDACTED" in memory.first_request
    assert any("[REDACTED" in c.command for c in memory.commands)


def test_memory_round_trips_through_a_dict(tmp_path):
    memory = (
        Transcript()
        .user("do it")
        .bash("pytest", "Exit code 1\n1 failed in 0.1s", True)
        .edit("a.py")
        .bash("pytest", "1 passed in 0.1s")
        .memory(tmp_path)
    )
    again = SessionMemory.from_dict(json.loads(json.dumps(memory.to_dict())))
    assert again == memory


def test_compress_accepts_a_parsed_session(tmp_path):
    path = Transcript().user("hello there").save(tmp_path / "t.jsonl")
    memory = compress(parse_file(path))
    assert memory.first_request == "hello there"
    assert memory.report.lines == 1


def test_compressing_from_an_offset_covers_only_the_delta(tmp_path):
    t = Transcript().user("first part").edit("a.py")
    path = t.save(tmp_path / "t.jsonl")
    offset = path.stat().st_size
    t.user("second part").edit("b.py").save(path)
    delta = compress_file(path, offset=offset)
    assert delta.first_request == "second part"
    assert [f.path for f in delta.files] == ["b.py"]
    assert delta.report.end_offset == path.stat().st_size


# -- not a transcript ----------------------------------------------------------------------


def test_compress_file_raises_a_one_line_error_for_non_transcripts(tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048))
    prose = tmp_path / "notes.txt"
    prose.write_text("just some notes\nnot json at all\n")
    for path, words in [
        (tmp_path / "missing.jsonl", "no such transcript"),
        (tmp_path, "is a directory"),
        (binary, "binary"),
        (prose, "not a Claude Code, Codex, Gemini CLI or chat transcript"),
    ]:
        with pytest.raises(TranscriptError, match=words) as caught:
            compress_file(path)
        assert "\n" not in str(caught.value)


def test_forcing_the_wrong_format_names_the_format_in_the_error(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"role": "user", "content": "hello"}) + "\n")
    with pytest.raises(TranscriptError, match="is not a Claude Code transcript"):
        compress_file(path, fmt="claude")
    assert compress_file(path, fmt="chat").first_request == "hello"


@pytest.mark.parametrize(
    ("fmt", "kind"), [("codex", "a Codex rollout"), ("gemini", "a Gemini CLI chat log")]
)
def test_objects_of_no_format_are_not_a_transcript_of_the_forced_one(tmp_path, fmt, kind):
    path = tmp_path / "objects.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n')
    with pytest.raises(TranscriptError, match=f"is not {kind} \\(no parsable line\\)"):
        compress_file(path, fmt=fmt)


def test_empty_file_compresses_to_an_empty_memory(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    memory = compress_file(path)
    assert memory.first_request is None and memory.files == [] and memory.decisions == []


# -- chat ----------------------------------------------------------------------------------

TURNS = [
    (
        "Caroline",
        "I went to a LGBTQ support group yesterday and it was so powerful.",
        "2023-05-08T13:56:00Z",
    ),
    (
        "Melanie",
        "Wow, that's cool Caroline!   What happened that was so awesome?",
        "2023-05-08T13:57:00Z",
    ),
    (
        "Caroline",
        "The transgender stories were so inspiring! I decided to volunteer there.",
        "2023-05-08T13:58:00Z",
    ),
]


def _content_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def test_chat_turns_become_near_verbatim_fact_snippets(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"role": "user", "speaker": s, "content": c, "timestamp": t, "id": f"D1:{i}"}
            )
            + "\n"
            for i, (s, c, t) in enumerate(TURNS)
        )
    )
    memory = compress_file(path, fmt="chat")
    facts = [s for s in memory.snippets if s.category == "fact"]
    assert [(f.speaker, f.occurred_at) for f in facts] == [
        ("Caroline", "2023-05-08T13:56:00+00:00"),
        ("Melanie", "2023-05-08T13:57:00+00:00"),
        ("Caroline", "2023-05-08T13:58:00+00:00"),
    ]
    for fact, (_, content, _) in zip(facts, TURNS, strict=True):
        expected = _content_words(content)
        window = _content_words(fact.content)[: 3 * len(expected) + 5]
        found = sum(1 for word in expected if word in window)
        assert found / len(expected) >= 0.7
    assert facts[1].content == "Wow, that's cool Caroline! What happened that was so awesome?"
    assert memory.source_format == "chat"
    assert memory.title == "Chat between Caroline and Melanie (2023-05-08)"
    assert "3 turns between Caroline and Melanie" in memory.summary
    assert memory.first_request.startswith("I went to a LGBTQ support group")
    assert memory.started_at == "2023-05-08T13:56:00+00:00"


def test_chat_secrets_are_redacted(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps({"content": f"my token is {GITHUB_TOKEN}"}) + "\n")
    memory = compress_file(path)
    assert memory.source_format == "chat"
    assert GITHUB_TOKEN not in all_text(memory)


# -- real transcripts ----------------------------------------------------------------------


def test_real_2x_session_yields_its_known_facts():
    memory = compress_file(shared("claude-code-2.1/258c7280-ae70-4798-800f-63464d01a85d.jsonl"))
    assert memory.branch == "spotter-gqc"
    assert memory.first_request == "Implement spotter-gqc"
    assert memory.last_request == "did you push?"
    top = memory.files[0]
    assert (top.path, top.edits, top.created) == (
        "lib/spotter_web/live/project_review_live.ex",
        8,
        True,
    )
    assert any(
        c.startswith("99b497c feat: transcript + terminal annotations") for c in memory.commits
    )
    push = next(c for c in memory.commands if c.command == "git push")
    assert (push.outcome, push.resolved) == ("failed", True)
    assert "The user requested" in memory.summary  # reused compaction summary
    assert {"elixir", "phoenix", "git", "testing"} <= set(memory.tags)
    block = render_summary_block(memory)
    assert math.ceil(len(block) / 4) <= 0.05 * math.ceil(memory.report.text_chars / 4)


def test_subagent_transcripts_can_be_folded_into_their_session():
    path = shared("claude-code-2.1/4d5611e5-241a-462a-8d15-5122611a9569.jsonl")
    alone, folded = compress_file(path), compress_file(path, include_subagents=True)
    assert folded.first_request == alone.first_request  # subagent prompts are not requests
    reads = {f.path: f.reads for f in alone.files}
    more = [f.path for f in folded.files if f.reads > reads.get(f.path, 0)]
    assert "lib/spotter_web/live/session_live.ex" in more  # the explorer's reads count too


def test_real_sessions_keep_answers_blockers_and_created_files():
    dov = compress_file(shared("claude-code-2.1/4d5611e5-241a-462a-8d15-5122611a9569.jsonl"))
    choice = next(d for d in dov.decisions if d.decision_type == "user-choice")
    assert choice.text.endswith("→ main was clean; fix the issues")
    todo = compress_file(shared("claude-code-1.0/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"))
    created = {f.path for f in todo.files if f.created}
    assert "components/TodoItem.tsx" in created
    assert todo.state.blockers == ["`npm run build` fails: [TypeError: generate is not a function]"]
    assert "Previously: Empty Repo Setup: CLAUDE.md Foundation Created." in todo.summary


def test_each_line_of_a_script_is_a_command_and_git_bash_paths_are_the_projects(tmp_path):
    """A Bash call of several lines runs them one after another: each is a command of its own
    (a leading ``cd`` to the project dropped, a quoted newline and a here-document kept whole),
    and Git Bash's ``/c/Users/…`` is the project's ``C:\\Users\\…``."""
    root = "C:\\Users\\dev\\starcar"
    script = (
        "cd /c/Users/dev/starcar\n"
        "# the integration branch\n"
        "git switch -c dev\n"
        'git commit -q -m "first line\n\nsecond line"\n'
        "git push -u origin dev 2>&1 | tail -5\n"
        "python3 - <<'EOF'\nprint('not a command')\nEOF\n"
        "pwsh -File /c/Users/dev/starcar/scripts/Land-Verdict.ps1 \\\n  -Round 4\n"
    )
    memory = (
        Transcript(cwd=root)
        .user("set up the dev branch")
        .bash(script, "Switched to a new branch 'dev'\nLanded /c/Users/dev/starcar/docs/v.md")
        .memory(tmp_path)
    )
    (run,) = [s.content for s in memory.snippets if s.category == "command"]
    assert run.splitlines()[0] == (
        '$ git switch -c dev; git commit -q -m "first line second line"; '
        "git push -u origin dev | tail -5; python3 - <<'EOF' print('not a command') EOF; "
        "pwsh -File scripts/Land-Verdict.ps1 -Round 4"
    )
    assert "Landed docs/v.md" in run
    assert memory.branch == "dev"


def test_an_output_excerpt_picks_only_lines_it_can_show_whole():
    """An excerpt's lines are picked, most telling first, only while they fit its room: a
    line that does not fit is left for a shorter one that does, not picked and then cut off
    with the lines after it."""
    output = (
        "Building project\n"
        "warning: --legacy-peer-deps is deprecated in packages/ui/pkg.json\n"
        "error TS2352: Conversion of type Foo may be a mistake\n"
        "Done in 4.1s"
    )
    assert excerpt(output, lines=4, chars=100).splitlines() == [
        "Building project",
        "warning: --legacy-peer-deps is deprecated in packages/ui/pkg.json",
        "Done in 4.1s",
    ]


def test_a_long_paste_keeps_its_telling_lines_past_what_the_request_keeps(tmp_path):
    """A request longer than the exchange keeps (a pasted log) keeps its most telling lines:
    the job's id and counts, the warning and the failure far down the paste; in the exchange's
    memory and, when it is the session's last, as its last request."""
    noise = "\n".join(f"[Proxy] GET /api/progress -> 200 ({n} connections)" for n in range(80))
    log = (
        "I ran a remediation and got these logs:\n"
        "[Jobs] Job aeb3cebb queued: 35 issues (21 errors, 14 suggestions)\n"
        f"{noise}\n"
        "[Bun.serve]: request timed out after 10 seconds. Pass `idleTimeout` to configure.\n"
        f"{noise}\n"
        "[Jobs] Job aeb3cebb failed: git checkout failed: error: pathspec '.' did not match"
    )
    memory = Transcript().user(log).say("The reset now tolerates a clean tree.").memory(tmp_path)
    (pasted,) = [s.content for s in memory.snippets if s.content.startswith("Pasted by the user")]
    assert pasted.splitlines()[0] == "Pasted by the user (of 164 lines):"
    for telling in ("21 errors, 14 suggestions", "idleTimeout", "pathspec '.' did not match"):
        assert telling in pasted
        # the session's last request, where the session start says it left off, keeps them too
        assert telling in memory.last_request
    assert memory.last_request.startswith("I ran a remediation and got these logs: | [Jobs] Job")
    assert len(memory.last_request) < 1000
    short = Transcript().user("fix the reset").say("Done.").memory(tmp_path)
    assert not [s for s in short.snippets if s.content.startswith("Pasted by the user")]
    assert short.last_request == "fix the reset"


def test_a_proxied_session_reads_bun_tests_and_quiet_commits_as_they_ran(tmp_path):
    """``rtk`` runs the command after it (a failure of ``rtk bun run test`` is resolved by
    ``bun run test`` passing); bun's summary counts its tests, and a passing suite's log line
    "error: …" is not a failure; a commit that printed no ``[branch sha]`` line (``ok ✓``)
    is known by its message."""
    passing = (
        "$ bun test src/\n[Limiter] Task 2 failed\nerror: Item 3 failed\n\n"
        " 1309 pass\n 0 fail\n 2849 expect() calls\nRan 1309 tests across 58 files. [754.00ms]"
    )
    memory = (
        Transcript()
        .user("run the tests and commit")
        .edit("src/engine.ts")
        .bash("rtk bun run test", "error: unrecognized subcommand 'bun'", True)
        .bash("bun run test 2>&1", passing)
        .bash('rtk git commit -m "Plan-first pipeline"', "ok ✓")
        .edit("src/git.ts")
        .memory(tmp_path)
    )
    runs = {c.command: c for c in memory.commands}
    assert runs["bun run test"].outcome == "tests-passed"
    assert runs["bun run test"].tests == "1309 pass, 0 fail"
    assert runs["rtk bun run test"].resolved is True and memory.state.blockers == []
    assert memory.commits == ["Plan-first pipeline"]
    assert memory.uncommitted == ["src/git.ts"]


def test_a_folder_given_with_dash_c_is_not_the_commands_subcommand(tmp_path):
    """``git -C <dir> add`` is ``git add`` run in that folder: the exchange keeps its failure
    with the ``git add`` that worked as its fix."""
    memory = (
        Transcript()
        .user("commit it")
        .bash(f"git -C {CWD} add src/a.ts", "error: unexpected argument '-C' found", True)
        .bash("git add src/a.ts", "")
        .memory(tmp_path)
    )
    (fix,) = [s.content for s in memory.snippets if s.category == "fix"]
    assert fix.endswith("Fixed by: `git add src/a.ts`")


def test_a_session_on_windows_names_its_files_as_the_project_does(tmp_path):
    """Claude Code on Windows writes ``C:\\Users\\…`` paths and runs commands with its
    PowerShell tool: the files are the project's own (``Converters/Words.cs``), the commands
    are commands, and a failure run again and passing is resolved."""
    root = "C:\\Users\\dev\\numwords"
    memory = (
        Transcript(cwd=root)
        .user("fix the converter")
        .tool("Read", {"file_path": f"{root}\\Converters\\Words.cs"}, "class Words {}")
        .tool(
            "PowerShell",
            {"command": "dotnet test", "description": "Run the tests"},
            f"{root}\\tests\\WordsTests.cs(12): error: Assert.Equal() Failure\r\n"
            "Failed!  - Failed: 1, Passed: 40, Skipped: 0, Total: 41",
            True,
        )
        .tool(
            "Edit",
            {"file_path": f"{root}\\Converters\\Words.cs", "old_string": "a", "new_string": "b"},
            "The file has been updated.",
        )
        .bash(
            "dotnet build 2>&1 | tail -1",  # one line, its path holding "\\n" (…\\numwords)
            f"{root}\\Converters\\Words.cs(3,5): error CS0518: Predefined type is not defined",
        )
        .bash("dotnet build 2>&1 | tail -1", "Build succeeded.")
        .tool("PowerShell", {"command": "dotnet test"}, "Passed!  - Failed: 0, Passed: 41")
        .memory(tmp_path)
    )
    assert "Converters/Words.cs" in {f.path for f in memory.files}
    run = next(c for c in memory.commands if c.command == "dotnet test")
    assert run.resolved is True and memory.state.blockers == []
    commands = [s.content for s in memory.snippets if s.category == "command"]
    assert any("failed: tests\\WordsTests.cs(12): error: Assert" in c for c in commands)
    assert any("failed: Converters\\Words.cs(3,5): error CS0518" in c for c in commands)


@pytest.mark.parametrize(
    "how", [{"run_in_background": True}, {"subagent_type": "car"}], ids=["asked", "defined"]
)
def test_a_background_subagents_report_comes_in_its_notification(tmp_path, how):
    """An Agent run in the background (asked so, or so its agent type is defined) returns at
    once ("Async agent launched"); its report is the ``<result>`` of the notification that
    it finished."""
    launched = "Async agent launched successfully.\nagentId: a69b4 (internal ID)"
    notice = (
        "<task-notification>\n<task-id>a69b4</task-id>\n<status>completed</status>\n"
        '<summary>Agent "Bug review" finished</summary>\n'
        "<result># Review\nC-1: the ones digit is dropped when useCompoundNumbers is false "
        "&amp; 235 tests run in &lt;300 ms.</result>\n</task-notification>"
    )
    memory = (
        Transcript()
        .user("/review codebase")
        .tool(
            "Agent",
            {"description": "Bug review", "prompt": "review it", **how},
            launched,
        )
        .user(notice)
        .memory(tmp_path)
    )
    reports = [s.content for s in memory.snippets if s.category == "report"]
    assert reports == [
        "# Review\nC-1: the ones digit is dropped when useCompoundNumbers is false "
        "& 235 tests run in <300 ms."
    ]


def test_a_search_within_one_file_names_the_file_it_searched(tmp_path):
    """A Grep given a path prints its matches without the path (``3:pub trait …``): the found
    memory says where it searched, relative to the project, so "which file defines the
    provider trait?" finds it."""
    memory = (
        Transcript()
        .user("where are the balance providers?")
        .tool(
            "Grep",
            {"pattern": "pub trait", "path": f"{CWD}/crates/core/src/balance.rs", "-n": True},
            "39:pub trait BalanceProvider {",
        )
        .tool("Grep", {"pattern": "TODO"}, f"{CWD}/src/app.rs")
        .say("The trait is BalanceProvider.")
        .memory(tmp_path)
    )
    found = [s.content for s in memory.snippets if s.category == "found"]
    assert any(text.startswith("Grep pub trait in crates/core/src/balance.rs") for text in found), (
        found
    )
    assert any(text.startswith("Grep TODO") and " in " not in text.split("\n")[0] for text in found)


def test_the_key_files_are_the_projects_not_the_skills_the_agent_read(tmp_path):
    """A skill's prompts and the agent's notes under the home folder are read more than any
    project file in a subagent-driven session: they are no key files of the project."""
    skills = "/Users/dev/.claude/plugins/cache/superpowers/skills"
    transcript = Transcript().user("carry on with the plan")
    for _ in range(3):
        transcript.tool("Read", {"file_path": f"{skills}/implementer-prompt.md"}, "   1→# Do it")
    memory = (
        transcript.tool("Read", {"file_path": f"{CWD}/docs/plan.md"}, "   1→# Plan")
        .edit("src/app.tsx")
        .say("Done.")
        .memory(tmp_path)
    )
    assert memory.state.key_files == ["src/app.tsx", "docs/plan.md"]
    elsewhere = (
        Transcript(cwd="/work/other")
        .user("look")
        .tool("Read", {"file_path": f"{skills}/implementer-prompt.md"}, "   1→# Do it")
    )
    assert elsewhere.say("Read.").memory(tmp_path).state.key_files == [
        f"{skills}/implementer-prompt.md"
    ]


def test_the_commands_a_session_ran_last_are_always_in_its_state(tmp_path):
    """A long session keeps 40 of its commands, failures first; the ones it ran last are
    always among them, so where it left off never shows a failure later runs got past."""
    transcript = Transcript().user("check the pull request until it is green")
    transcript.bash("until gh pr checks 546; do sleep 30; done", "Command timed out", True)
    for n in range(45):
        transcript.bash(f"gh api repos/o/r/actions/runs/{n} --jq .status", "HTTP 404", True)
    transcript.bash("gh pr checks 546", "All checks were successful")
    memory = transcript.say("The checks are green.").memory(tmp_path)
    assert len(memory.commands) == 40
    assert memory.commands[-1].command == "gh pr checks 546"
    assert memory.commands[-1].outcome == "ok"


def worktree_session(work_in_it: bool = True) -> Transcript:
    """A session that adds a git worktree for the next phase and works in it, while Claude
    Code's recorded branch stays the main checkout's."""
    transcript = Transcript(branch="main").user("start phase 3 in its own worktree")
    transcript.bash(
        "git fetch origin main && git worktree add -b feat/phase3 .worktrees/phase3 origin/main",
        "Preparing worktree (new branch 'feat/phase3')\nHEAD is now at f99c863 fix(ci)",
    )
    if work_in_it:
        transcript.cwd = f"{CWD}/.worktrees/phase3/apps/web"  # the Bash tool's `cd` persists
        transcript.bash("pnpm install", "Done in 2.1s")
        transcript.cwd = CWD
    return transcript.say("Phase 3 is set up.")


def test_the_worktree_a_session_added_and_worked_in_is_named_with_its_branch(tmp_path):
    memory = worktree_session().memory(tmp_path)
    assert memory.branch == "main"  # as Claude Code recorded it: the main checkout's
    assert memory.worktree == ".worktrees/phase3 (feat/phase3)"
    assert worktree_session(work_in_it=False).memory(tmp_path).worktree is None


NEW_BRANCH = "Preparing worktree (new branch 'feat/x')"


@pytest.mark.parametrize(
    ("command", "output", "added"),
    [
        ("git worktree add -b feat/x .wt/x main | tail", NEW_BRANCH, (".wt/x", "feat/x")),
        ("cd /repo && git worktree add ../wt feat/x", NEW_BRANCH, ("/wt", "feat/x")),
        ("cd /repo && cd apps && git worktree add wt", NEW_BRANCH, ("/repo/apps/wt", "feat/x")),
        ("cd - && git worktree add wt", NEW_BRANCH, ("wt", "feat/x")),
        ('WT="/tmp/wt"; git worktree add -B feat/x "$WT"', NEW_BRANCH, ("/tmp/wt", "feat/x")),
        ("git worktree add --detach /tmp/r c1b7131", "Preparing worktree (detached HEAD c1)", None),
        ("git worktree list", "/repo  f99c863 [main]", None),
    ],
)  # fmt: skip
def test_a_worktree_added_is_read_with_the_branch_its_output_names(command, output, added):
    assert worktree_added(command, output) == added
