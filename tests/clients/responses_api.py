"""A small local stand-in for the OpenAI Responses API, for driving the real Codex CLI.

Codex calls ``POST {base_url}/responses`` and reads server-sent events; a turn needs at least
its output items (``response.output_item.done``) and ``response.completed``. The script is
read off the conversation, as for the Messages stand-in (``model_api``): ``[bash: CMD]`` in
the latest prompt runs CMD through Codex's shell tool, then (on its output) the reply quotes
the output's last line; ``[plan: STEP=STATUS; …]`` sets Codex's plan (``update_plan``);
``[say: TEXT]`` replies TEXT; otherwise ``Noted: <first words>``.
Every request is kept (``requests``). Standard library only.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.clients.stand_in import StandIn, last_directive, send_events, send_json

DIRECTIVE = re.compile(r"\[(bash|plan|say):\s*(.*?)\]", re.S)
SHELL_TOOLS = ("exec_command", "shell", "local_shell")


def _text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))


def reply(body: dict[str, Any]) -> dict[str, Any]:
    """The output item answering a request's input."""
    items = [i for i in body.get("input") or [] if isinstance(i, dict)]
    last = items[-1] if items else {}
    if last.get("type") in ("function_call_output", "custom_tool_call_output"):
        output = last.get("output")
        text = output if isinstance(output, str) else json.dumps(output)
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return _message(f"Finished. The output was: {lines[-1] if lines else ''}")
    prompts = [_text(i) for i in items if i.get("role") == "user"]
    prompt = prompts[-1] if prompts else ""
    found = last_directive(DIRECTIVE, prompt)
    if found and found.group(1) == "bash":
        names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        name = next((n for n in SHELL_TOOLS if n in names), "exec_command")
        command = found.group(2).strip()
        arguments = (
            {"cmd": command} if name == "exec_command" else {"command": ["bash", "-lc", command]}
        )
        return _call(name, arguments)
    if found and found.group(1) == "plan":
        steps = [part.partition("=") for part in found.group(2).split(";") if part.strip()]
        plan = [{"step": step.strip(), "status": status.strip()} for step, _, status in steps]
        return _call("update_plan", {"plan": plan})
    if found:
        return _message(found.group(2).strip())
    return _message("Noted: " + " ".join(prompt.split()[:8]))


def _call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{uuid.uuid4().hex[:12]}",
        "call_id": f"call_{uuid.uuid4().hex[:12]}",
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def _message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


@dataclass
class ResponsesAPI(StandIn):
    """The Responses API stand-in (the client's base URL ends in ``/v1``)."""

    prefix = "/v1"

    def respond(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        self.requests.append(body)
        if not path.rstrip("/").endswith("/responses"):
            send_json(handler, {})
            return
        item = reply(body)
        response_id = f"resp_{uuid.uuid4().hex[:12]}"
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        events = [
            ("response.created", {"response": {"id": response_id}}),
            ("response.output_item.added", {"output_index": 0, "item": item}),
            ("response.output_item.done", {"output_index": 0, "item": item}),
            ("response.completed", {"response": {"id": response_id, "usage": usage}}),
        ]
        send_events(handler, ((name, {"type": name, **data}) for name, data in events))
