"""Gemini CLI chat logs (``~/.gemini/tmp/<project>/chats/session-*.jsonl``) into the events
every format parses into, so that a Gemini session becomes the same memory as the others.

The log is JSON Lines (Gemini CLI 0.39 on): a first line of metadata (``sessionId``,
``projectHash``, ``startTime``), then one message record a line (``id``, ``timestamp``,
``type``: user, gemini, info, error, warning; ``content``: text or parts; a gemini record's
``toolCalls`` with ``name``, ``args``, ``result``, ``status``). A record updated later is
appended again under the same id (the last one counts), ``{"$set": …}`` lines update the
metadata and ``{"$rewindTo": id}`` drops what followed that message. Gemini's tools are read
as the Claude Code tools that do the same (``run_shell_command`` as Bash, ``replace`` as
Edit, ``write_file`` as Write, ``read_file`` as Read, ``write_todos`` as TodoWrite); the
context a hook gave it (``<hook_context>``) and its own ``<session_context>`` are not what the
person typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from contextrecall.agents import without_hook_context
from contextrecall.memory import ParseReport
from contextrecall.transcript.events import (
    TEXT_CAP,
    THINKING_CAP,
    TOOL_INPUT_CAP,
    TOOL_RESULT_CAP,
    AssistantMessage,
    Event,
    SessionInfo,
    ToolCall,
    ToolResult,
    UserPrompt,
    cap_text,
)

RECORD_TYPES = frozenset({"user", "gemini", "info", "error", "warning"})
TOOLS = {  # Gemini's tool: (Claude Code's, {Claude Code's argument: Gemini's})
    "run_shell_command": ("Bash", {"command": "command", "description": "description"}),
    "replace": (
        "Edit",
        {"file_path": "file_path", "old_string": "old_string", "new_string": "new_string"},
    ),
    "write_file": ("Write", {"file_path": "file_path", "content": "content"}),
    "read_file": ("Read", {"file_path": "absolute_path"}),
    "write_todos": ("TodoWrite", {"todos": "todos"}),  # items: {description, status}
}
_WRAPPER = re.compile(r"</?untrusted_context>\n?")
_EXIT = re.compile(r"^Exit Code: (-?\d+)\s*$", re.M)
_BOOKKEEPING = re.compile(r"^(?:Process Group PGID|Background PIDs|Signal|Directory): .*\n?", re.M)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def tool_call(call: dict[str, Any]) -> ToolCall:
    """A Gemini tool call as the Claude Code tool that does the same (others as they are)."""
    name = str(call.get("name") or "tool")
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    known = TOOLS.get(name)
    if known:
        claude, fields = known
        values = {ours: args.get(theirs, args.get(ours)) for ours, theirs in fields.items()}
        values = {k: v for k, v in values.items() if v is not None}
    else:
        claude, values = name, dict(args)
    capped = {
        k: cap_text(v, TOOL_INPUT_CAP) if isinstance(v, str) else v for k, v in values.items()
    }
    return ToolCall(str(call.get("id") or ""), claude, capped)


def tool_output(call: dict[str, Any]) -> tuple[str, bool]:
    """A tool call's output text and whether it failed (its status, or a non-zero exit)."""
    texts = []
    for part in _list(call.get("result")):
        function = part.get("functionResponse") if isinstance(part, dict) else None
        response = function.get("response") if isinstance(function, dict) else None
        if isinstance(response, dict):
            value = response.get("output", response.get("error", response))
            texts.append(value if isinstance(value, str) else json.dumps(value))
    text = _WRAPPER.sub("", "\n".join(texts))
    found = _EXIT.search(text)
    text = _BOOKKEEPING.sub("", _EXIT.sub("", text)).strip()
    text = text[len("Output: ") :] if text.startswith("Output: ") else text
    failed = call.get("status") == "error" or (found is not None and found.group(1) != "0")
    return text, failed


def parse_gemini(objects: Iterable[dict[str, Any]], report: ParseReport) -> Iterator[Event]:
    """Stream events from decoded chat-log lines (the last copy of each message counts)."""
    records: dict[str, dict[str, Any]] = {}
    info: SessionInfo | None = None
    for obj in objects:
        if isinstance(obj.get("$rewindTo"), str):
            kept = list(records)
            cut = kept.index(obj["$rewindTo"]) if obj["$rewindTo"] in records else len(kept)
            for gone in kept[cut + 1 :]:
                del records[gone]
        elif "$set" in obj:
            continue  # metadata (and the session context Gemini starts with)
        elif isinstance(obj.get("sessionId"), str) and "type" not in obj:
            info = SessionInfo(session_id=obj["sessionId"], timestamp=obj.get("startTime"))
        elif (
            isinstance(obj.get("type"), str)
            and obj["type"] in RECORD_TYPES
            and isinstance(obj.get("id"), str)
        ):
            records.pop(obj["id"], None)  # an update moves it where it was written last
            records[obj["id"]] = obj
        else:
            report.skip("gemini-unknown-line")
    if info is not None:
        yield info
    chars = 0
    for record in records.values():
        when = record.get("timestamp") if isinstance(record.get("timestamp"), str) else None
        kind = record["type"]
        if kind == "user":
            text = without_hook_context(_text(record.get("content"))).strip()
            if text:  # (a tool's response comes back as a user record: taken from its call)
                chars += len(text)
                meta = text.startswith("<session_context>")
                yield UserPrompt(cap_text(text, TEXT_CAP), "meta" if meta else "typed", when)
        elif kind == "gemini":
            text = _text(record.get("content")).strip()
            thoughts = [
                f"{t.get('subject', '')}: {t.get('description', '')}".strip(": ")
                for t in _list(record.get("thoughts"))
                if isinstance(t, dict)
            ]
            calls = [c for c in _list(record.get("toolCalls")) if isinstance(c, dict)]
            mapped = [tool_call(c) for c in calls]
            chars += len(text)
            if text or thoughts or mapped:
                yield AssistantMessage(
                    text=cap_text(text, TEXT_CAP),
                    thinking=cap_text("\n".join(thoughts), THINKING_CAP),
                    tool_calls=mapped,
                    timestamp=when,
                )
            for call, event in zip(calls, mapped, strict=True):
                if call.get("result") is None:
                    continue
                output, failed = tool_output(call)
                chars += len(output)
                yield ToolResult(
                    event.id,
                    cap_text(output, TOOL_RESULT_CAP),
                    is_error=failed,
                    call=event,
                    timestamp=when,
                    original_chars=len(output),
                )
    report.text_chars += chars
