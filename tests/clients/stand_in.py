"""What the local stand-ins for the model APIs share (``model_api``, ``responses_api``,
``gemini_api``): an HTTP server on 127.0.0.1 on a free port, from ``start`` until ``stop``,
that keeps every request's body and lets the subclass answer it. Standard library only."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def last_directive(pattern: re.Pattern[str], prompt: str) -> re.Match[str] | None:
    """The prompt's last directive: what our prompt hook put before it (a recalled earlier
    prompt's directive) is not what the person asks now."""
    found = list(pattern.finditer(prompt))
    return found[-1] if found else None


def send_json(handler: BaseHTTPRequestHandler, value: Any) -> None:
    data = json.dumps(value).encode()
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_events(handler: BaseHTTPRequestHandler, events: Iterable[tuple[str | None, Any]]) -> None:
    """Server-sent events: ``event: NAME`` (when named) and ``data: JSON`` each."""
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.end_headers()
    for name, data in events:
        named = f"event: {name}\n" if name else ""
        handler.wfile.write(f"{named}data: {json.dumps(data)}\n\n".encode())
    handler.wfile.flush()


@dataclass
class StandIn:
    """The server; a subclass answers each POST in ``respond`` (GET and HEAD get ``{}``)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    prefix = ""  # what the client's base URL adds to the server's address

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def respond(self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def start(self) -> StandIn:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(size) or b"{}")
                except ValueError:
                    body = {}
                api.respond(self, self.path, body if isinstance(body, dict) else {})

            def do_GET(self) -> None:
                send_json(self, {})

            def do_HEAD(self) -> None:
                send_json(self, {})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
