"""`recall ui`: the memory browser, a local web page on Starlette and uvicorn (which the MCP
SDK brings), its pages rendered on the server from Jinja templates that escape everything.

Nothing is reachable from another host: it listens on 127.0.0.1 only, answers only requests
addressed to that host and port (a page elsewhere cannot reach it through DNS rebinding),
and only with the random token of its address, which the first visit trades for a cookie
(HttpOnly, SameSite=Strict); every change is a POST carrying the token too. No script runs
on its pages (the content security policy forbids any), and nothing is loaded from the
network.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from contextrecall.curation import browse, forgetting
from contextrecall.db import session_scope
from contextrecall.settings import Settings
from contextrecall.store import forget as store

COOKIE = "recall_ui"
POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

templates = Environment(
    loader=PackageLoader("contextrecall.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


templates.filters["when"] = _when


class Browser:
    """The pages of one `recall ui` run: its settings, its token, the port it listens on."""

    def __init__(self, settings: Settings, port: int, token: str | None = None) -> None:
        self.settings, self.port = settings, port
        self.token = token or secrets.token_urlsafe(24)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    # --- access ----------------------------------------------------------------------------

    def _allowed_host(self, request: Request) -> bool:
        return request.headers.get("host", "") in {
            f"127.0.0.1:{self.port}",
            f"localhost:{self.port}",
        }

    def _has_token(self, request: Request) -> bool:
        return secrets.compare_digest(request.cookies.get(COOKIE, ""), self.token)

    async def guard(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every request: the right host, then the token (from the address once, then the
        cookie). A POST carries it in its form too (``_form``)."""
        if not self._allowed_host(request):
            return self._page("error.html", 403, message="This address is not served here.")
        offered = request.query_params.get("token")
        if offered is not None:
            if not secrets.compare_digest(offered, self.token):
                return self._page("error.html", 403, message="This link's token is not valid.")
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return self._secured(response)
        if not self._has_token(request):
            return self._page(
                "error.html",
                403,
                message="Open the address `recall ui` printed (it carries this run's token).",
            )
        return self._secured(await call_next(request))

    @staticmethod
    def _secured(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _form(self, request: Request) -> Any:
        """A POST's form, None unless it carries the token (a page elsewhere cannot)."""
        form = await request.form()
        return form if secrets.compare_digest(str(form.get("token", "")), self.token) else None

    def _refused(self) -> Response:
        return self._page("error.html", 403, message="This form's token is not valid.")

    def _page(self, template: str, code: int = 200, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(token=self.token, **values)
        return HTMLResponse(html, status_code=code)

    # --- pages -----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return self._page("home.html", **await run_in_threadpool(self._home))

    def _home(self) -> dict[str, Any]:
        from contextrecall.maintenance.status import format_status, status_report

        with session_scope(self.settings) as db:
            projects = browse.projects(db)
        try:
            status = format_status(status_report(self.settings))
        except Exception as exc:  # the page still shows the memory
            status = f"status unavailable: {exc}"
        return {"projects": projects, "status": status}

    async def project(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        values = await run_in_threadpool(self._project, request.path_params["pid"], query)
        if values is None:
            return self._page("error.html", 404, message="No such project.")
        return self._page("project.html", done=request.query_params.get("done"), **values)

    def _project(self, project_id: str, query: str) -> dict[str, Any] | None:
        from contextrecall.recall import service, session_start

        with session_scope(self.settings) as db:
            found = browse.project(db, project_id)
            if found is None:
                return None
            identity = found.identity
            sessions = browse.timeline(db, project_id)
            pinned = browse.pinned(db, project_id)
        values: dict[str, Any] = {
            "project": found,
            "sessions": sessions,
            "pinned": pinned,
            "start": session_start.session_start_block(self.settings, identity),
            "query": query,
        }
        if query:
            values["block"] = service.prompt_block(self.settings, identity, query, used=False)
            result = service.search(
                self.settings, identity, query, budget=service.PROMPT_BUDGET, used=False
            )
            values["items"] = result["items"]
            with session_scope(self.settings) as db:
                values["pins"] = browse.pins(db, [item["id"] for item in result["items"]])
        return values

    async def session(self, request: Request) -> Response:
        pid, sid = request.path_params["pid"], request.path_params["sid"]

        def read() -> tuple[Any, Any]:
            with session_scope(self.settings) as db:
                return browse.project(db, pid), browse.session(db, pid, sid)

        project, view = await run_in_threadpool(read)
        if project is None or view is None:
            return self._page("error.html", 404, message="No such session in this project.")
        return self._page(
            "session.html", project=project, view=view, done=request.query_params.get("done")
        )

    async def forget_preview(self, request: Request) -> Response:
        """What a forget would take, with its count, and the button that does it."""
        pid = request.path_params["pid"]
        ids = request.query_params.getlist("id")
        session = request.query_params.get("session", "")
        query = request.query_params.get("q", "").strip()

        def read() -> dict[str, Any] | None:
            with session_scope(self.settings) as db:
                project = browse.project(db, pid)
                if project is None:
                    return None
                if session:
                    view = browse.session(db, pid, session)
                    memories = [] if view is None else [*view.decisions, *view.snippets]
                    return {"project": project, "session": view, "memories": memories}
                if ids:
                    found = store.find(db, ids)
                    memories = [m for m in found if m.project_id == pid]
                    return {"project": project, "memories": memories}
            found = forgetting.matches(self.settings, project.identity, query) if query else []
            return {"project": project, "matches": found, "query": query}

        values = await run_in_threadpool(read)
        if values is None:
            return self._page("error.html", 404, message="No such project.")
        return self._page("forget.html", ids=ids, session_id=session, **values)

    async def forget(self, request: Request) -> Response:
        pid = request.path_params["pid"]
        form = await self._form(request)
        if form is None:
            return self._refused()
        ids = [str(i) for i in form.getlist("id")]
        session, query = str(form.get("session", "")), str(form.get("q", "")).strip()

        def run() -> str:
            with session_scope(self.settings) as db:
                project = browse.project(db, pid)
            if project is None:
                raise ValueError("no such project")
            scope = forgetting.Scope(project.identity)
            if session:
                report = forgetting.forget_session(self.settings, session, scope)
                return f"Forgot the session ({_counted(report['removed'])})."
            if query:
                report = forgetting.forget_matches(self.settings, project.identity, query)
            else:
                report = forgetting.forget_ids(self.settings, ids, scope)
            count = len(report["forgotten"])
            noun = "memory" if count == 1 else "memories"
            return f"Forgot {count} {noun} ({_counted(report['removed'])})."

        try:
            done = await run_in_threadpool(run)
        except ValueError as exc:
            return self._page("error.html", 400, message=str(exc))
        return RedirectResponse(f"/p/{pid}?{urlencode({'done': done})}", status_code=303)

    async def pin(self, request: Request) -> Response:
        pid = request.path_params["pid"]
        form = await self._form(request)
        if form is None:
            return self._refused()
        memory, pinned = str(form.get("id", "")), form.get("pinned") == "1"
        back = str(form.get("back", ""))
        if not back.startswith(f"/p/{pid}"):
            back = f"/p/{pid}"

        def run() -> dict[str, Any]:
            with session_scope(self.settings) as db:
                project = browse.project(db, pid)
            if project is None:
                raise ValueError("no such project")
            scope = forgetting.Scope(project.identity)
            return forgetting.pin_ids(self.settings, [memory], pinned, scope)

        try:
            report = await run_in_threadpool(run)
        except ValueError as exc:
            return self._page("error.html", 400, message=str(exc))
        done = ("Pinned." if pinned else "Unpinned.") if not report["not_found"] else "Not found."
        joiner = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{joiner}{urlencode({'done': done})}", status_code=303)

    def app(self) -> Starlette:
        return Starlette(
            middleware=[Middleware(BaseHTTPMiddleware, dispatch=self.guard)],
            routes=[
                Route("/", self.home),
                Route("/p/{pid}", self.project),
                Route("/p/{pid}/s/{sid}", self.session),
                Route("/p/{pid}/forget", self.forget_preview, methods=["GET"]),
                Route("/p/{pid}/forget", self.forget, methods=["POST"]),
                Route("/p/{pid}/pin", self.pin, methods=["POST"]),
            ],
        )


def _counted(removed: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in removed.items() if n) or "none"


def serve(settings: Settings, port: int = 0, open_browser: bool = True) -> None:
    """Serve the browser on 127.0.0.1 until interrupted; its address goes to stdout."""
    import socket
    import sys
    import webbrowser

    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)  # connections wait from the moment the address is printed
    browser = Browser(settings, listener.getsockname()[1])
    print(f"Context Recall memory browser: {browser.address}", flush=True)
    print("(Ctrl-C stops it)", file=sys.stderr, flush=True)
    if open_browser:
        webbrowser.open(browser.address)
    config = uvicorn.Config(browser.app(), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])
