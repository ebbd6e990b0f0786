"""A small local stand-in for the Gemini API, for driving the real Gemini CLI.

The CLI (``GOOGLE_GEMINI_BASE_URL`` pointing here) calls ``POST
/v1beta/models/{model}:streamGenerateContent?alt=sse`` and reads ``data: <chunk>`` events; a
turn needs a chunk with text (or a function call) and a ``finishReason``. The script is read
off the conversation as for the other stand-ins: ``[bash: CMD]`` in the latest prompt runs CMD
through the CLI's shell tool, then (on its result) the reply quotes the output's last line;
``[todos: TODO=STATUS; …]`` writes the CLI's todo list (``write_todos``); ``[say: TEXT]``
replies TEXT; otherwise ``Noted: <first words>``. Every request is kept
(``requests``). Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.clients.stand_in import StandIn, last_directive, send_events, send_json

DIRECTIVE = re.compile(r"\[(bash|todos|say):\s*(.*?)\]", re.S)
SHELL_TOOL = "run_shell_command"


def _parts(content: dict[str, Any]) -> list[dict[str, Any]]:
    parts = content.get("parts")
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def reply(body: dict[str, Any]) -> dict[str, Any]:
    """The model's part answering a request's contents."""
    contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
    last = contents[-1] if contents else {}
    answered = [p["functionResponse"] for p in _parts(last) if "functionResponse" in p]
    if answered:
        text = json.dumps(answered[0].get("response", {}))
        response = answered[0].get("response") or {}
        output = str(response.get("output", text)) if isinstance(response, dict) else text
        lines = [line for line in output.strip().splitlines() if line.strip()]
        return {"text": f"Finished. The output was: {lines[-1] if lines else ''}"}
    prompts = [
        p["text"] for c in contents if c.get("role") == "user" for p in _parts(c) if "text" in p
    ]
    found = last_directive(DIRECTIVE, prompts[-1] if prompts else "")
    if found and found.group(1) == "bash":
        return {"functionCall": {"name": SHELL_TOOL, "args": {"command": found.group(2).strip()}}}
    if found and found.group(1) == "todos":
        items = [part.partition("=") for part in found.group(2).split(";") if part.strip()]
        todos = [{"description": d.strip(), "status": status.strip()} for d, _, status in items]
        return {"functionCall": {"name": "write_todos", "args": {"todos": todos}}}
    if found:
        return {"text": found.group(2).strip()}
    words = (prompts[-1] if prompts else "").split()
    return {"text": "Noted: " + " ".join(words[:8])}


@dataclass
class GeminiAPI(StandIn):
    """The Gemini API stand-in (``GOOGLE_GEMINI_BASE_URL`` is its address)."""

    def respond(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        if ":countTokens" in path:
            send_json(handler, {"totalTokens": 10})
            return
        self.requests.append(body)
        chunk = {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [reply(body)]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 10,
                "candidatesTokenCount": 5,
                "totalTokenCount": 15,
            },
        }
        if ":streamGenerateContent" in path:
            send_events(handler, [(None, chunk)])
        else:
            send_json(handler, chunk)
