"""A small local stand-in for the Gemini API, for driving the real Gemini CLI.

The CLI (``GOOGLE_GEMINI_BASE_URL`` pointing here) calls ``POST
/v1beta/models/{model}:streamGenerateContent?alt=sse`` and reads ``data: <chunk>`` events; a
turn needs a chunk with text (or a function call) and a ``finishReason``. The script is read
off the conversation as for the other stand-ins: ``[bash: CMD]`` in the latest prompt runs CMD
through the CLI's shell tool, then (on its result) the reply quotes the output's last line;
``[say: TEXT]`` replies TEXT; otherwise ``Noted: <first words>``. Every request is kept
(``requests``). Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIRECTIVE = re.compile(r"\[(bash|say):\s*(.*?)\]", re.S)
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
    found = DIRECTIVE.search(prompts[-1] if prompts else "")
    if found and found.group(1) == "bash":
        return {"functionCall": {"name": SHELL_TOOL, "args": {"command": found.group(2).strip()}}}
    if found:
        return {"text": found.group(2).strip()}
    words = (prompts[-1] if prompts else "").split()
    return {"text": "Noted: " + " ".join(words[:8])}


class GeminiAPI:
    """The stand-in, on 127.0.0.1 on a free port, serving from ``start`` until ``stop``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json({"models": []})

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                if ":countTokens" in self.path:
                    self._json({"totalTokens": 10})
                    return
                api.requests.append(body)
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
                if ":streamGenerateContent" not in self.path:
                    self._json(chunk)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
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
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> GeminiAPI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
