"""`recall hook`: the agents' hook entry (Claude Code, Codex and Gemini CLI, whose hooks send
the same JSON), built to never break or stall the agent.

It reads the hook JSON on stdin and dispatches on ``hook_event_name``. Save events spool and
publish a job; context events print the project's memory. Whatever happens, it exits 0
within its time budget; failures go to ``$RECALL_HOME/hook.log`` and jobs stay spooled.
Imports here stay on the standard library (plus the redactor) to keep start-up cheap.
"""

from __future__ import annotations

import _signal as signal  # the builtin: `signal` costs the hook ~1 ms of enum set-up
import json
import os
import select
import sys
import time

from contextrecall.settings import HOOK_BUDGET_SECONDS, WAITING, Settings, home_from_env

TYPE_CHECKING = False  # importing typing costs the hook ~3 ms; annotations are strings
if TYPE_CHECKING:
    from typing import Any, BinaryIO, TextIO

# Claude Code's and Codex's events; Gemini CLI's AfterAgent and PreCompress are its Stop and
# PreCompact, its BeforeAgent its UserPromptSubmit.
SAVE_EVENTS = frozenset(
    {"Stop", "SubagentStop", "PreCompact", "SessionEnd", "AfterAgent", "PreCompress"}
)
CONTEXT_EVENTS = frozenset({"SessionStart", "UserPromptSubmit", "BeforeAgent"})
MAX_STDIN_BYTES = 1024 * 1024
MAX_LOG_BYTES = 1024 * 1024


class HookInputError(ValueError):
    """The hook JSON is missing, malformed or lacks a field the event needs."""


class HookTimeout(BaseException):
    """The watchdog fired: stop where we are (jobs already spooled stay spooled)."""


def read_stdin(stream: BinaryIO, deadline: float, limit: int = MAX_STDIN_BYTES) -> bytes:
    """Read stdin until EOF, ``limit`` bytes or ``deadline``, whichever comes first."""
    chunks, size = [], 0
    fd = stream.fileno()
    while size <= limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HookInputError("stdin was not closed in time")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise HookInputError(f"hook input larger than {limit} bytes")
    return b"".join(chunks)


def parse_event(raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw.decode("utf-8", errors="replace") or "null")
    except ValueError as exc:
        raise HookInputError(f"hook input is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise HookInputError("hook input is not a JSON object")
    return event


def save_event(event: dict[str, Any], settings: Settings, deadline: float) -> None:
    """Spool what is new in the event's transcript (and in transcripts earlier hooks named
    before they were written), then publish it while time allows."""
    from contextrecall.client.outbox import flush_spool, publish_spooled, settle_confirmed
    from contextrecall.client.waiting import ready

    spooled = spool_event(event, settings)
    waiting = settings.location(WAITING)
    for earlier in ready(waiting):
        if time.monotonic() > deadline - 0.3:
            break
        try:
            spooled += spool_event(earlier, settings)
        except HookInputError as exc:
            log_failure(settings, f"bad input: {exc}")
    if spooled:
        # Before publishing, which may run out of time: a new worker delivers the spool.
        start_worker(settings)
    publish_spooled(settings, spooled, deadline=deadline)
    if time.monotonic() < deadline - 0.1:
        flush_spool(settings, deadline=deadline, limit=20)  # an older backlog, if any
    if time.monotonic() < deadline - 0.1:
        settle_confirmed(settings, deadline=deadline)  # sent jobs a worker has stored


def spool_event(event: dict[str, Any], settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """Spool the new lines of the transcript a save event names. A transcript Claude Code
    has not written yet waits for a later hook; the last answer a Stop hook is told of, not
    yet in the transcript, goes with the lines as a provisional one."""
    from contextrecall.agents import transcript_format
    from contextrecall.client.deltas import MAX_LINE_BYTES, holds_answer, tail_line
    from contextrecall.client.outbox import spool_new_deltas
    from contextrecall.client.waiting import forget, remember
    from contextrecall.identity import project_for_directory, this_machine
    from contextrecall.ids import subagent_session

    name = event.get("hook_event_name")
    session_id = str(event.get("session_id") or "").strip()
    transcript = event.get("transcript_path")
    external_id = session_id
    subagent = name == "SubagentStop" and bool(event.get("agent_transcript_path"))
    if subagent:
        transcript = event["agent_transcript_path"]
        stem = os.path.splitext(os.path.basename(str(transcript)))[0]
        external_id = subagent_session(session_id, stem)
    if not session_id or not transcript:
        raise HookInputError(f"{name} event without session_id or transcript path")
    path = os.path.expanduser(str(transcript))
    if os.path.isdir(path):
        raise HookInputError(f"transcript {path} is a directory")
    waiting = settings.location(WAITING)
    if not os.path.isfile(path):
        # Not written yet: a later hook saves it. Nothing to save, though, from a subagent's
        # that never is (a compaction's) or a session that ended without one (`claude mcp
        # list` and the other subcommands fire SessionEnd for a session never written).
        if not subagent and name != "SessionEnd":
            remember(waiting, event, path)
        return []
    cwd = event.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise HookInputError("cwd is not a string")
    fmt = transcript_format(path)
    message = event.get("last_assistant_message")
    tail = None
    if (
        fmt == "claude"  # a provisional answer is a line of Claude Code's format
        and isinstance(message, str)
        and message.strip()
        and not holds_answer(path, message)
    ):
        tail = tail_line(message, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
    project = project_for_directory(cwd or os.getcwd())
    spooled = spool_new_deltas(
        settings,
        transcript=path,
        project=project.to_dict(),
        machine=this_machine().to_dict(),
        session_external_id=external_id,
        source_format=fmt,
        event=str(name),
        on_dropped=lambda count: log_failure(
            settings, f"skipped {count} line(s) over {MAX_LINE_BYTES} bytes in {path}"
        ),
        tail=tail,
    )
    forget(waiting, path)
    return spooled


def start_worker(settings: Settings) -> None:
    """A worker for the work just queued, when none is alive (a few microseconds when one
    is); a failure to start one is logged, never raised."""
    from contextrecall.client.autostart import ensure_worker

    try:
        ensure_worker(settings)
    except OSError as exc:
        log_failure(settings, f"could not start a worker: {exc}")


def context_event(event: dict[str, Any], settings: Settings, deadline: float) -> str | None:
    """The context block for SessionStart / UserPromptSubmit (the read path). A session
    start also starts a worker, which migrates a new database and delivers any backlog."""
    from contextrecall.recall.hooks import hook_context

    if event.get("hook_event_name") == "SessionStart":
        start_worker(settings)
    if event.get("hook_event_name") == "BeforeAgent" and isinstance(event.get("prompt"), str):
        from contextrecall.agents import without_hook_context

        # Gemini CLI hands the prompt on with the session-start block in front of it
        event = {**event, "prompt": without_hook_context(event["prompt"])}
    return hook_context(event, settings, deadline)


def handle(event: dict[str, Any], settings: Settings, deadline: float) -> str | None:
    name = event.get("hook_event_name")
    if not isinstance(name, str):
        raise HookInputError("hook_event_name is missing or not a string")
    if name in SAVE_EVENTS or name in CONTEXT_EVENTS:
        from contextrecall.client.opt_out import opted_out

        cwd = event.get("cwd")
        if opted_out(cwd if isinstance(cwd, str) and cwd else os.getcwd(), settings):
            return None  # the project opted out: nothing stored, nothing given
    if name in SAVE_EVENTS:
        save_event(event, settings, deadline)
        return None
    if name in CONTEXT_EVENTS:
        return context_event(event, settings, deadline)
    return None  # events we don't act on


def log_failure(settings: Settings | None, message: str) -> None:
    """Append one line to the hook log (kept small); never raises."""
    try:
        try:
            folder = (settings or Settings.from_env()).location()
        except ValueError:  # a setting it cannot parse: what is logged, in the home it names
            folder = home_from_env()
        os.makedirs(folder, exist_ok=True)
        log = os.path.join(folder, "hook.log")
        if os.path.exists(log) and os.path.getsize(log) > MAX_LOG_BYTES:
            os.replace(log, log + ".1")
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")
    except Exception:
        pass


def _missing_schema(exc: Exception) -> bool:
    if "sqlalchemy" not in sys.modules:  # not a database error: don't load SQLAlchemy for it
        return False
    from contextrecall.db import is_missing_schema

    return is_missing_schema(exc)


_watching = False  # the watchdog interrupts only the hook's work, never its reporting of it


def _on_alarm(_signum: int, _frame: object) -> None:
    if not _watching:
        return
    # Python swallows an exception raised inside a garbage-collector callback: re-arm a short
    # timer so the watchdog fires again if this one is lost there.
    signal.setitimer(signal.ITIMER_REAL, 0.02)
    raise HookTimeout()


def main(
    stdin: BinaryIO | None = None, stdout: TextIO | None = None, budget: float | None = None
) -> int:
    """Run the hook within ``budget`` seconds (the ``RECALL_HOOK_BUDGET_SECONDS`` setting when
    None); always returns 0."""
    global _watching
    started = time.monotonic()
    settings: Settings | None = None
    if not hasattr(signal, "SIGALRM"):  # Windows: no watchdog and no fcntl, so no hook
        log_failure(settings, "unsupported platform: the hook needs SIGALRM and fcntl (POSIX)")
        return 0
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    failure: str | None = None
    _watching = True
    # the default budget bounds reading the settings too, then the watchdog is set again
    signal.setitimer(signal.ITIMER_REAL, (budget or HOOK_BUDGET_SECONDS) + 0.05)
    try:
        try:
            settings = Settings.from_env()
            if budget is None:
                budget = settings.hook_budget_seconds
                left = started + budget - time.monotonic()
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001) + 0.05)
            deadline = started + budget
            raw = read_stdin(stdin or sys.stdin.buffer, deadline)
            output = handle(parse_event(raw), settings, deadline)
            if output:
                (stdout or sys.stdout).write(output)
        except HookTimeout:
            failure = "timed out; unsent jobs stay in the spool"
        except HookInputError as exc:
            failure = f"bad input: {exc}"
        except Exception as exc:
            # Before the schema exists there is no memory to give: the worker this session
            # start started creates it (`recall status` shows a database it could not migrate).
            if not _missing_schema(exc):
                first_line = str(exc).splitlines()[0] if str(exc) else ""  # no SQL parameters
                failure = f"error: {type(exc).__name__}: {first_line}"
    except HookTimeout:  # the watchdog fired while a failure was being read: it is logged
        failure = failure or "timed out; unsent jobs stay in the spool"
    finally:
        _watching = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if failure:
        log_failure(settings, failure)
    return 0
