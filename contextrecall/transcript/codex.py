"""Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``) into the events every
format parses into, so that a Codex session becomes the same memory as a Claude Code one.

A rollout line is ``{"timestamp", "type", "payload"}`` (codex-rs ``RolloutLine``):
``session_meta`` (id, cwd, cli_version, git branch), ``turn_context`` (cwd), ``response_item``
(the conversation: messages, reasoning, tool calls and their outputs), ``compacted`` (a
summary of earlier turns) and ``event_msg`` (what the interface showed, which repeats the
response items: left out). Codex's tools are read as the Claude Code tools that do the same,
so compression needs to know only one set: a shell command (``exec_command``, ``shell``, a
``local_shell_call``) as Bash, an ``apply_patch`` (its own tool, or run through the shell) as
an Edit (or a Write of an added file) per file it touches.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from collections.abc import Iterable, Iterator
from typing import Any

from contextrecall.agents import CODEX_LINE_TYPES
from contextrecall.memory import ParseReport
from contextrecall.transcript.events import (
    TEXT_CAP,
    THINKING_CAP,
    TOOL_INPUT_CAP,
    TOOL_RESULT_CAP,
    AssistantMessage,
    CompactionSummary,
    Event,
    SessionInfo,
    ToolCall,
    ToolResult,
    UserPrompt,
    cap_text,
)

SHELL_TOOLS = frozenset({"exec_command", "shell", "container.exec", "local_shell"})
# What Codex itself puts in the conversation as a user message: not what the person typed.
_HARNESS = re.compile(
    r"^\s*(<environment_context>|<user_instructions>|<permissions instructions>|"
    r"# AGENTS\.md instructions|<INSTRUCTIONS>|<turn_aborted>)"
)
_EXIT = re.compile(r"(?:exited with code|Exit code:)\s*(-?\d+)")
# Unified exec's header before a command's output: "Chunk ID: …", "Wall time: …", "Process
# exited with code N", "Original token count: N", then "Output:".
_HEADER = re.compile(
    r"\A(?:(?:Chunk ID|Wall time|Process exited|Process running|Original token|Script completed)"
    r"[^\n]*\n)+Output:\n?"
)
# Code mode (Codex 0.14x, the desktop app): one ``exec`` tool runs a JavaScript cell that calls
# the other tools (``tools.exec_command({cmd: "…"})``, ``tools.apply_patch("*** Begin Patch…")``);
# a cell still running after its wait says "Script running with cell ID 7", and a ``wait``
# call's output ends it later.
SCRIPT_TOOLS = frozenset({"exec"})
_SCRIPT_COMMAND = re.compile(r"""["']?\bcmd["']?\s*:\s*("(?:[^"\\]|\\.)*")""")
_SCRIPT_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SCRIPT_RUNNING = re.compile(r"\AScript running with cell ID (\w+)")
# A command still running is read on by ``tools.write_stdin({session_id: N})``; the cell that
# started it printed its session id when the agent asked for it.
_SCRIPT_POLL = re.compile(r"\bwrite_stdin\(\s*\{[^}]*?\bsession_id\s*:\s*(\d+)")
_PRINTED_SESSION = re.compile(r"(?i)\bsession[_ ]?id\W{1,4}(\d+)\b")
# A command Codex's sandbox ran and that failed: "failed in sandbox LinuxSeccomp with execution
# error: …" (codex-rs SandboxErr), "command timed out", or, for any non-zero exit, "sandbox
# denied exec error, exit code: 2, stdout: …, stderr: …": that command's own exit and output.
_SANDBOX_FAILED = re.compile(r"\Afailed in sandbox \w+ with execution error: (.*)\Z", re.S)
_EXITED = re.compile(
    r"\Asandbox denied exec error, exit code: (-?\d+), stdout: (.*?)(?:, stderr: (.*))?\Z", re.S
)
_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$")
# A patch run through the shell, as Codex's harness recognises one: ``["apply_patch", PATCH]``
# or ``bash -lc "apply_patch <<'EOF' … EOF"`` (what models told to use apply_patch often run).
_PATCH_PROGRAM = frozenset({"apply_patch", "applypatch"})
_PATCH_SCRIPT = re.compile(r"\A\s*(?:apply_patch|applypatch)\s*<<")
_PATCH_BODY = re.compile(r"^\*\*\* Begin Patch\s*$.*?^\*\*\* End Patch\s*$", re.M | re.S)


def _text(content: Any, kinds: tuple[str, ...]) -> str:
    """The texts of a message's content items of ``kinds``, joined."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [
        item["text"]
        for item in content
        if isinstance(item, dict)
        and item.get("type") in kinds
        and isinstance(item.get("text"), str)
    ]
    return "\n".join(parts)


def shell_command(arguments: Any) -> str | None:
    """The command line of a shell tool call: ``cmd`` (unified exec) or ``command`` (a
    string, or an argv whose ``bash -lc SCRIPT`` form is shown as the script)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments.strip() or None
    if not isinstance(arguments, dict):
        return None
    command = arguments.get("cmd", arguments.get("command"))
    if isinstance(command, str):
        return command.strip() or None
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        if len(command) >= 3 and command[1] in ("-lc", "-c") and command[0].endswith("sh"):
            return command[2].strip() or None
        return shlex.join(command) or None
    return None


def shell_patch(arguments: Any) -> str | None:
    """The patch of a shell call that runs ``apply_patch`` (``_PATCH_PROGRAM``,
    ``_PATCH_SCRIPT``), or None for any other command."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    command = (
        arguments.get("cmd", arguments.get("command")) if isinstance(arguments, dict) else None
    )
    if isinstance(command, list) and len(command) >= 2 and all(isinstance(c, str) for c in command):
        if command[0].rsplit("/", 1)[-1] in _PATCH_PROGRAM:
            return command[1]
        command = shell_command({"command": command})
    if not isinstance(command, str) or not _PATCH_SCRIPT.match(command):
        return None
    body = _PATCH_BODY.search(command)
    return body.group(0) if body else None


def _shell_calls(call_id: str, arguments: Any) -> list[ToolCall]:
    """A shell call as the tool calls it makes: the edits of a patch it runs, or a Bash
    command."""
    if isinstance(arguments, str):  # decoded once, for both readings
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    patch = shell_patch(arguments)
    if patch is not None:
        return patch_calls(call_id, patch)
    command = shell_command(arguments)
    return [ToolCall(call_id, "Bash", {"command": command})] if command else []


def patch_calls(call_id: str, patch: str) -> list[ToolCall]:
    """An ``apply_patch`` as one Edit (or Write, for an added file) per file it touches, with
    the lines it removed and added."""
    calls: list[ToolCall] = []
    current: ToolCall | None = None
    for line in patch.splitlines():
        found = _PATCH_FILE.match(line)
        if found:
            action, path = found.groups()
            name = "Write" if action == "Add" else "Edit"
            current = ToolCall(f"{call_id}#{len(calls)}", name, {"file_path": path.strip()})
            current.input.update(
                {"content": ""} if name == "Write" else {"old_string": "", "new_string": ""}
            )
            calls.append(current)
        elif current is not None and line[:1] in ("+", "-") and not line.startswith("***"):
            key = (
                "content"
                if current.name == "Write"
                else ("new_string" if line[0] == "+" else "old_string")
            )
            current.input[key] = cap_text(current.input[key] + line[1:] + "\n", TOOL_INPUT_CAP)
    return calls


def script_calls(call_id: str, script: Any) -> list[ToolCall]:
    """The commands and patches a code-mode cell runs: each ``exec_command`` command a shell
    command (each given the cell's output, which prints them together), and each patch's
    files."""
    if not isinstance(script, str):
        return []
    commands = []
    for literal in _SCRIPT_COMMAND.findall(script):
        with contextlib.suppress(ValueError):
            commands.append(json.loads(literal))
    calls = [
        ToolCall(f"{call_id}#{n}" if n else call_id, "Bash", {"command": command})
        for n, command in enumerate(commands)
    ]
    for literal in _SCRIPT_STRING.findall(script):
        if "*** Begin Patch" in literal:
            with contextlib.suppress(ValueError):
                calls += patch_calls(f"{call_id}#patch{len(calls)}", json.loads(literal))
    return calls


def _script_result(text: str) -> tuple[str, int | None]:
    """A cell's printed output, and the exit code when it printed a command's whole result
    (``{"exit_code": 101, "output": "…"}``)."""
    body = _HEADER.sub("", text, count=1)
    if body.startswith("{") and '"exit_code"' in body[:300]:
        with contextlib.suppress(ValueError):
            result = json.loads(body)
            if isinstance(result, dict) and isinstance(result.get("output"), str):
                code = result.get("exit_code")
                return result["output"], code if isinstance(code, int) else None
    return body, None


def _output(payload: dict[str, Any]) -> tuple[str, bool]:
    """A tool output's text and whether it failed (a non-zero exit code, or said so)."""
    output = payload.get("output")
    code: int | None = None
    if isinstance(output, str):
        try:
            parsed = json.loads(output)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("output"), str):
            metadata = parsed.get("metadata")
            if isinstance(metadata, dict) and isinstance(metadata.get("exit_code"), int):
                code = metadata["exit_code"]
            output = parsed["output"]
    elif isinstance(output, dict):
        code = output.get("exit_code") if isinstance(output.get("exit_code"), int) else None
        output = output.get("output") or output.get("content") or ""
    else:
        output = _text(output, ("input_text", "output_text", "text"))
    text = output if isinstance(output, str) else ""
    if text.startswith("Script completed"):
        text, code = _script_result(text)
    if sandboxed := _SANDBOX_FAILED.match(text):
        text, code = sandboxed.group(1), 1
        if exited := _EXITED.match(text):
            code = int(exited.group(1))
            text = "\n".join(
                part.strip("\n") for part in exited.group(2, 3) if part and part.strip()
            )
    if code is None and (found := _EXIT.search(text[:400])):
        code = int(found.group(1))
    text = _HEADER.sub("", text, count=1)
    failed = (code is not None and code != 0) or payload.get("success") is False
    return text, failed


class CodexParser:
    """Turns decoded rollout lines into events, pairing each output with its call."""

    def __init__(self, report: ParseReport) -> None:
        self.report = report
        self.calls: dict[str, list[ToolCall]] = {}
        self.info = SessionInfo()
        self.text_chars = 0
        self.sessions: dict[str, str] = {}  # a running command's session id: its command
        self.last_command: str | None = None  # the command a code-mode cell started last

    def feed(self, obj: dict[str, Any]) -> Iterator[Event]:
        kind, payload, when = obj.get("type"), obj.get("payload"), obj.get("timestamp")
        when = when if isinstance(when, str) else None
        if (
            not isinstance(kind, str)
            or kind not in CODEX_LINE_TYPES
            or not isinstance(payload, dict)
        ):
            self.report.skip("codex-unknown-line")
            return
        if kind in ("session_meta", "turn_context"):
            yield from self._session(payload, when)
        elif kind == "compacted":
            message = payload.get("message")
            if isinstance(message, str) and message.strip():
                self.text_chars += len(message)
                yield CompactionSummary(cap_text(message, TEXT_CAP), "compact", when)
        elif kind == "response_item":
            yield from self._item(payload, when)

    def _session(self, payload: dict[str, Any], when: str | None) -> Iterator[Event]:
        meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else payload
        git = payload.get("git") if isinstance(payload.get("git"), dict) else {}
        changed = False
        for field, value in (
            ("session_id", meta.get("id")),
            ("cwd", meta.get("cwd") or payload.get("cwd")),
            ("branch", git.get("branch")),
            ("version", meta.get("cli_version")),
        ):
            if isinstance(value, str) and value and getattr(self.info, field) != value:
                setattr(self.info, field, value)
                changed = True
        if changed:
            self.info.timestamp = when
            yield SessionInfo(
                self.info.session_id, self.info.cwd, self.info.branch, self.info.version, when
            )

    def _item(self, payload: dict[str, Any], when: str | None) -> Iterator[Event]:
        item = payload.get("type") if isinstance(payload.get("type"), str) else None
        if item == "message":
            role = payload.get("role")
            if role == "user":
                text = _text(payload.get("content"), ("input_text", "text")).strip()
                if text:
                    self.text_chars += len(text)
                    meta = bool(_HARNESS.match(text))
                    yield UserPrompt(cap_text(text, TEXT_CAP), "meta" if meta else "typed", when)
            elif role == "assistant":
                text = _text(payload.get("content"), ("output_text", "text")).strip()
                if text:
                    self.text_chars += len(text)
                    yield AssistantMessage(text=cap_text(text, TEXT_CAP), timestamp=when)
            return  # developer and system messages: Codex's own instructions
        if item == "reasoning":
            summary = _text(payload.get("summary"), ("summary_text",)).strip()
            if summary:
                yield AssistantMessage(thinking=cap_text(summary, THINKING_CAP), timestamp=when)
            return
        call_id = str(payload.get("call_id") or payload.get("id") or "")
        if item == "function_call" and payload.get("name") == "wait":
            cell = _script_cell(payload.get("arguments"))
            if cell and f"cell:{cell}" in self.calls:  # its output is the cell's
                self.calls[call_id] = self.calls.pop(f"cell:{cell}")
            return
        if item in ("function_call", "custom_tool_call", "local_shell_call"):
            calls = self._calls(item, payload, call_id)
            if calls:
                self.calls[call_id] = calls
                yield AssistantMessage(tool_calls=calls, timestamp=when)
            return
        if item in ("function_call_output", "custom_tool_call_output"):
            running = _SCRIPT_RUNNING.match(_text(payload.get("output"), ("input_text", "text")))
            if running:  # the cell goes on: a ``wait`` call's output ends it
                self.calls[f"cell:{running.group(1)}"] = self.calls.pop(call_id, [])
                return
            text, failed = _output(payload)
            self.text_chars += len(text)
            if started := _session_of(self.calls.get(call_id, []), text):
                self.sessions[started[0]] = started[1]
            for call in self.calls.pop(call_id, []) or [None]:
                yield ToolResult(
                    call.id if call else call_id,
                    cap_text(text, TOOL_RESULT_CAP),
                    is_error=failed,
                    call=call,
                    timestamp=when,
                    original_chars=len(text),
                )
            return
        self.report.skip(f"codex-{item or 'item'}")

    def _calls(self, item: str, payload: dict[str, Any], call_id: str) -> list[ToolCall]:
        name = str(payload.get("name") or "")
        if item == "local_shell_call":
            action = payload.get("action")
            return _shell_calls(call_id, action if isinstance(action, dict) else None)
        if name == "apply_patch":
            patch = payload.get("input", payload.get("arguments"))
            try:  # as a function call: {"input": "*** Begin Patch…"}
                decoded = json.loads(patch) if isinstance(patch, str) else patch
            except ValueError:
                decoded = patch
            if isinstance(decoded, dict):
                patch = decoded.get("input") or decoded.get("patch")
            return patch_calls(call_id, patch) if isinstance(patch, str) else []
        if name in SHELL_TOOLS:
            return _shell_calls(call_id, payload.get("arguments"))
        if name in SCRIPT_TOOLS and item == "custom_tool_call":
            return self._script(call_id, payload.get("input"))
        arguments = payload.get("arguments", payload.get("input"))
        try:
            values = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            values = {"input": arguments}
        values = values if isinstance(values, dict) else {"input": values}
        if name == "update_plan" and isinstance(values.get("plan"), list):
            # the plan's steps are Codex's todo list: {step, status} as TodoWrite's items
            steps = [p for p in values["plan"] if isinstance(p, dict)]
            todos = [{"content": p.get("step"), "status": p.get("status")} for p in steps]
            return [ToolCall(call_id, "TodoWrite", {"todos": todos})]
        capped = {
            k: cap_text(v, TOOL_INPUT_CAP) if isinstance(v, str) else v for k, v in values.items()
        }
        return [ToolCall(call_id, name or "tool", capped)]

    def _script(self, call_id: str, script: Any) -> list[ToolCall]:
        """A code-mode cell's calls (``script_calls``); a cell that only reads on from a running
        command is that command again (named by its session id, else the one started last),
        so its output is that command's."""
        calls = script_calls(call_id, script)
        shell = [c for c in calls if c.name == "Bash"]
        if shell:
            self.last_command = shell[-1].input["command"]
        elif isinstance(script, str) and (poll := _SCRIPT_POLL.search(script)):
            command = self.sessions.get(poll.group(1), self.last_command)
            if command:
                calls.append(ToolCall(call_id, "Bash", {"command": command}))
        return calls


def _session_of(calls: list[ToolCall], text: str) -> tuple[str, str] | None:
    """(session id, command) when a cell that started a command printed its session id."""
    printed = _PRINTED_SESSION.search(text)
    command = next((c.input.get("command") for c in calls if c.name == "Bash"), None)
    return (printed.group(1), command) if printed and isinstance(command, str) else None


def _script_cell(arguments: Any) -> str | None:
    """The cell a ``wait`` call waits on (``{"cell_id": "18", …}``)."""
    with contextlib.suppress(ValueError, TypeError):
        values = json.loads(arguments) if isinstance(arguments, str) else arguments
        if isinstance(values, dict) and values.get("cell_id") is not None:
            return str(values["cell_id"])
    return None


def parse_codex(objects: Iterable[dict[str, Any]], report: ParseReport) -> Iterator[Event]:
    """Stream events from decoded Codex rollout lines."""
    parser = CodexParser(report)
    for obj in objects:
        yield from parser.feed(obj)
    report.text_chars += parser.text_chars
