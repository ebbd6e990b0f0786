"""A small local stand-in for the OpenAI Responses API, for driving the real Codex CLI.

Codex calls ``POST {base_url}/responses`` and reads server-sent events; a turn needs at least
its output items (``response.output_item.done``) and ``response.completed``. The script is
read off the conversation, as for the Messages stand-in (``model_api``): ``[bash: CMD]`` in
the latest prompt runs CMD through Codex's shell tool, then (on its output) the reply quotes
the output's last line; ``[say: TEXT]`` replies TEXT; otherwise ``Noted: <first words>``.
Every request is kept (``requests``). Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIRECTIVE = re.compile(r"\[(bash|say):\s*(.*?)\]", re.S)
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
    found = DIRECTIVE.search(prompt)
    if found and found.group(1) == "bash":
        names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        name = next((n for n in SHELL_TOOLS if n in names), "exec_command")
        command = found.group(2).strip()
        arguments = (
            {"cmd": command} if name == "exec_command" else {"command": ["bash", "-lc", command]}
        )
        return {
            "type": "function_call",
            "id": f"fc_{uuid.uuid4().hex[:12]}",
            "call_id": f"call_{uuid.uuid4().hex[:12]}",
            "name": name,
            "arguments": json.dumps(arguments),
            "status": "completed",
        }
    if found:
        return _message(found.group(2).strip())
    return _message("Noted: " + " ".join(prompt.split()[:8]))


def _message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


class ResponsesAPI:
    """The stand-in, on 127.0.0.1 on a free port, serving from ``start`` until ``stop``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:  # /models and the like: nothing to list
                self._json({"object": "list", "data": [], "models": []})

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                api.requests.append(body)
                if not self.path.rstrip("/").endswith("/responses"):
                    self._json({})
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
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                for name, data in events:
                    payload = json.dumps({"type": name, **data})
                    self.wfile.write(f"event: {name}\ndata: {payload}\n\n".encode())
                self.wfile.flush()

            def _json(self, value: Any) -> None:
                data = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> ResponsesAPI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
