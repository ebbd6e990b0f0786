"""A small local stand-in for the Anthropic Messages API, for driving the real Claude Code CLI.

It answers every ``POST /v1/messages`` from a script read off the conversation itself, so a
test says what the model does in the prompt it sends:

- ``[bash: CMD]`` in the latest prompt: a Bash tool call running CMD, then (on its result) a
  text reply quoting the first line of the output;
- ``[background: CMD]``: the same, run in the background (Claude Code later notifies);
- ``[mcp: TOOL QUERY]``: a call of the MCP tool whose name ends in ``__TOOL`` (whatever the
  server is called), with ``{"query": QUERY}``;
- ``[task: PROMPT]``: a subagent (the Task or Agent tool) given PROMPT;
- ``[say: TEXT]``: a text reply TEXT; otherwise the reply is ``Noted: <first words>``;
- a compaction request (Claude Code asks for a "detailed summary of the conversation"):
  a summary in ``<summary>`` tags naming the prompts it saw.

Every request is kept (``requests``) so a test can look at what reached the model: the
system prompt, the hook blocks, the tools. Standard library only; one thread per request.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.clients.stand_in import StandIn, send_events, send_json

DIRECTIVE = re.compile(r"\[(bash|background|mcp|task|say):\s*(.*?)\]", re.S)
COMPACTION = "create a detailed summary of the conversation"


def _texts(content: Any) -> list[str]:
    """The text blocks of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]


def _this_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages after the model's last reply: the prompt, hook blocks, tool results."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "assistant":
            return messages[index + 1 :]
    return messages


def _tool_results(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    return "\n".join(_texts(content)) if isinstance(content, list) else str(content or "")


@dataclass
class Reply:
    """What the model says: text, and at most one tool call."""

    text: str = ""
    tool: tuple[str, dict[str, Any]] | None = None


@dataclass
class ModelAPI(StandIn):
    """The Messages API stand-in; ``start`` binds 127.0.0.1 on a free port."""

    delay: float = 0.0  # seconds before each answer, to let a test widen a race

    def respond(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        if not path.startswith("/v1/messages") or "count_tokens" in path:
            send_json(handler, {"input_tokens": 100} if "count_tokens" in path else {})
            return
        self.requests.append(body)
        if self.delay:
            threading.Event().wait(self.delay)
        reply = self.answer(body)
        if body.get("stream"):
            send_events(handler, self.events(body, reply))
        else:
            send_json(handler, self.message(body, reply))

    # -- what the model says -----------------------------------------------------------

    def answer(self, body: dict[str, Any]) -> Reply:
        messages = body.get("messages") or []
        turn = _this_turn(messages)
        texts = [t for m in turn for t in _texts(m.get("content"))]
        if any(COMPACTION in t for t in texts) or COMPACTION in str(body.get("system")):
            return Reply(text=self.summary(messages))
        results = [r for m in turn for r in _tool_results(m.get("content"))]
        if results:
            first = (_result_text(results[-1]).strip().splitlines() or ["(empty)"])[0]
            if first.startswith(("{", "[")):  # structured: an MCP tool's answer
                return Reply(text="I looked that up.")
            return Reply(text=f"Finished. The output was: {first[:100]}")
        typed = [
            self.typed(t) for m in turn if m.get("role") == "user" for t in _texts(m.get("content"))
        ]
        typed = [t for t in typed if t]
        if any(t.startswith("<task-notification>") for t in typed):
            return Reply(text="The background command has finished.")
        prompt = "\n".join(typed)
        tools = [t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)]
        for kind, argument in DIRECTIVE.findall(prompt):
            argument = argument.strip()
            if kind == "say":
                return Reply(text=argument)
            if kind == "bash" and "Bash" in tools:
                return Reply(tool=("Bash", {"command": argument, "description": "Run it"}))
            if kind == "background" and "Bash" in tools:
                command = {"command": argument, "description": "Run it", "run_in_background": True}
                return Reply(tool=("Bash", command))
            if kind == "mcp":
                tool, _, query = argument.partition(" ")
                name = next((t for t in tools if t.endswith("__" + tool)), None)
                if name:
                    return Reply(tool=(name, {"query": query}))
            if kind == "task":
                name = next((t for t in ("Agent", "Task") if t in tools), None)
                if name:
                    task = {"description": "A subtask", "prompt": argument}
                    return Reply(tool=(name, {**task, "subagent_type": "general-purpose"}))
        said = [t for t in typed if not t.startswith("<")]  # not a command's caveat or output
        if not said:
            return Reply(text="Ready.")
        return Reply(text="Noted: " + " ".join(said[-1].split()[:12]))

    @staticmethod
    def typed(text: str) -> str:
        """A prompt without the blocks Claude Code and hooks put around it."""
        return re.sub(r"<system-reminder>.*?</system-reminder>", "", text, flags=re.S).strip()

    def summary(self, messages: list[dict[str, Any]]) -> str:
        asked = [
            self.typed(t)
            for m in messages
            if m.get("role") == "user"
            for t in _texts(m.get("content"))
            if self.typed(t) and COMPACTION not in t
        ]
        listed = "\n".join(f"- {a[:200]}" for a in asked)
        return (
            "<analysis>Looking back over the conversation.</analysis>\n<summary>\n"
            f"1. Primary Request and Intent:\n{listed}\n"
            "2. Current Work:\nThe conversation was compacted by the stand-in.\n</summary>"
        )

    # -- wire format -------------------------------------------------------------------

    def _blocks(self, reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        if reply.tool:
            name, arguments = reply.tool
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_" + uuid.uuid4().hex[:24],
                    "name": name,
                    "input": arguments,
                }
            )
        return blocks

    def message(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-stand-in"),
            "content": self._blocks(reply),
            "stop_reason": "tool_use" if reply.tool else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 20},
        }

    def events(self, body: dict[str, Any], reply: Reply) -> list[tuple[str, dict[str, Any]]]:
        message = self.message(body, reply)
        blocks = message["content"]
        start = {**message, "content": [], "stop_reason": None}
        out: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start})
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                opened = {"type": "text", "text": ""}
                delta = {"type": "text_delta", "text": block["text"]}
            else:
                opened = {**block, "input": {}}
                delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            out += [
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opened},
                ),
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                ),
                ("content_block_stop", {"type": "content_block_stop", "index": index}),
            ]
        out += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": 20},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return out
