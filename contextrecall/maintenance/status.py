"""Operator views of the system: what `recall status` shows.

Every section but the database's degrades instead of failing: a broker that cannot be asked
shows its queue depth as unavailable, and last maintenance runs are empty until recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from contextrecall import migrate
from contextrecall.broker.config import QUEUE, store_queue
from contextrecall.client import waiting
from contextrecall.client.spool import SENDING, SENT
from contextrecall.crypto import key_id_of
from contextrecall.db import get_engine, session_scope
from contextrecall.jobs import FAILED_JOBS, LEFT_JOBS, SEALED
from contextrecall.models import Base, FailedJob
from contextrecall.settings import WAITING, Settings

LATEST = 5
PROBE_TIMEOUT = 3.0
# kombu.transport.redis: a queue with priorities is one list per step, named queue + sep + step.
REDIS_PRIORITY_STEPS, REDIS_PRIORITY_SEP = (0, 3, 6, 9), "\x06\x16"


def status_report(settings: Settings) -> dict[str, Any]:
    """Everything `recall status` shows, as JSON-ready data."""
    not_yet = no_database_yet(settings)
    current = None if not_yet else migrate.current_revision(settings)
    head = migrate.head_revision()
    rows: dict[str, int] = {}
    failed: dict[str, Any] = {"count": 0, "latest": []}
    runs: dict[str, Any] = {}
    if current is not None:
        with get_engine(settings).connect() as connection:
            present = set(inspect(connection).get_table_names())
            for name, table in sorted(Base.metadata.tables.items()):
                if name in present:
                    rows[name] = connection.execute(
                        select(func.count()).select_from(table)
                    ).scalar_one()
        if FailedJob.__tablename__ in present:
            with session_scope(settings) as db:
                failed = failed_jobs(db)
        runs = last_maintenance_runs(settings)
    failed["local"] = local_failed_jobs(settings.home / FAILED_JOBS)
    left = left_jobs(settings.home / LEFT_JOBS)
    store = _store(settings) if current == head else None
    return {
        "database": _safe_url(settings.database_url),
        "store": store,
        "store_queue": queue_depth(settings, store_queue(store)) if store else None,
        "revision": current,
        "not_created_yet": not_yet,  # embedded: the first session's worker creates it
        "head": head,
        "up_to_date": current == head,
        "rows": rows,
        "queue": queue_depth(settings),  # save jobs for no known store, and the other tasks
        "spool": spool_backlog(settings.spool_dir),
        "waiting_transcripts": waiting.count(settings.location(WAITING)),
        "failed_jobs": failed,
        "left_jobs": left,
        "maintenance": runs,
        "worker": worker_state(settings),
        "hooks": installed_hooks(),
        "hook_errors": hook_errors(Path(settings.location("hook.log"))),
        "config_file": _config_file(),
    }


def _store(settings: Settings) -> str | None:
    """This store's id, learned for this ``RECALL_HOME``'s hooks on the way (None when the
    database cannot say)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from contextrecall.client.own_store import learn_store

    try:
        return learn_store(settings)
    except (OSError, OperationalError, ProgrammingError):
        return None


def no_database_yet(settings: Settings) -> bool:
    """An embedded database not created yet (asking would create an empty file)."""
    from sqlalchemy.engine import make_url

    if not settings.is_embedded_database:
        return False
    database = make_url(settings.database_url).database
    return bool(database) and database != ":memory:" and not os.path.exists(database)


# --- this machine -----------------------------------------------------------------------------


def worker_state(settings: Settings) -> dict[str, Any]:
    """``{alive, autostart, pid, log}``: is a worker of this RECALL_HOME running (it holds
    the home's worker lock), and would a hook start one."""
    from contextrecall.client.autostart import LOG, recorded_pid, worker_alive

    alive = worker_alive(settings)
    return {
        "alive": alive,
        "autostart": settings.worker_autostart,
        "pid": recorded_pid(settings) if alive else None,  # one started by hand records none
        "log": settings.location(LOG),
    }


OTHER_AGENTS = ("codex", "gemini")  # hooks of agents other than Claude Code, by their scope


def installed_hooks() -> list[dict[str, Any]]:
    """Where Claude Code runs `recall hook` for this directory: each scope whose settings
    hold the hooks, or enable the plugin (``plugin``: True), with its file and events; and
    Codex's and Gemini CLI's hooks (scope "codex", "gemini") when installed."""
    from contextrecall.install import codex, gemini
    from contextrecall.install.files import enabled_plugin, read_document
    from contextrecall.install.files import installed_hooks as find
    from contextrecall.install.merge import HOOK_EVENTS, installed_events

    own = [{"scope": scope, "path": str(path), "events": events} for scope, path, events in find()]
    plugin = [
        {"scope": scope, "path": str(path), "events": list(HOOK_EVENTS), "plugin": True}
        for scope, path in enabled_plugin()
    ]
    agents = []
    for agent, files in zip(OTHER_AGENTS, (codex, gemini), strict=True):
        path = files.hooks_path()
        try:
            document = read_document(path)
        except (OSError, ValueError):  # not ours to judge here: the agent's own file
            document = None
        if events := installed_events(document) if document else []:
            agents.append({"scope": agent, "path": str(path), "events": events})
    return own + plugin + agents


# What fixes a hook failure, by what its log line says.
HOOK_FIXES = (
    ("no tables yet", "recall db upgrade"),
    ("no such table", "recall db upgrade"),
    ("timed out", "recall spool flush"),
    ("unavailable", "recall spool flush"),
    ("could not start a worker", "recall worker"),
    ("bad input", "recall install"),
    ("unsupported platform", "run Claude Code and Context Recall in WSL"),
    ("No space left", "free disk space where RECALL_HOME is"),
)


def hook_errors(log: Path, latest: int = LATEST) -> list[dict[str, str | None]]:
    """The last ``latest`` lines of the hook log, each with the command that fixes it."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 64 * 1024))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()[-latest:]
    except OSError:
        return []
    return [
        {"line": line, "fix": next((fix for key, fix in HOOK_FIXES if key in line), None)}
        for line in lines
        if line.strip()
    ]


def _config_file() -> dict[str, Any]:
    from contextrecall.settings import config_path

    path = config_path(os.environ)
    return {"path": path, "exists": bool(path) and os.path.isfile(path)}


# --- broker ---------------------------------------------------------------------------------


def queue_depth(settings: Settings, queue: str = QUEUE) -> dict[str, Any]:
    """``{broker, queue, depth, error}``: messages waiting in ``queue``; depth None (and the
    reason in ``error``) when the broker cannot tell. Never raises."""
    url = settings.broker_url
    report: dict[str, Any] = {"broker": _safe_broker_url(url), "queue": queue, "depth": None}
    try:
        if url.startswith(("redis://", "rediss://")):
            report["depth"] = _redis_depth(url, queue)
        elif url.startswith(("amqp://", "amqps://", "pyamqp://")):
            report["depth"] = _amqp_depth(url, queue)
        elif url.startswith("filesystem://"):
            report["depth"] = _filesystem_depth(settings.broker_dir / "queue", queue)
        else:
            report["error"] = "unsupported broker"
    except Exception as exc:  # an operator's view: report, never crash
        report["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return report


def _redis_depth(url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for step in REDIS_PRIORITY_STEPS:
                pipe.llen(f"{queue}{REDIS_PRIORITY_SEP}{step}" if step else queue)
            return sum(pipe.execute())
    finally:
        client.close()


def _amqp_depth(url: str, queue: str) -> int:
    from kombu import Connection
    from kombu.exceptions import ChannelError

    with Connection(url, connect_timeout=PROBE_TIMEOUT) as connection:
        connection.ensure_connection(max_retries=0)
        channel = connection.channel()
        try:
            return channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError as exc:
            if getattr(exc, "code", None) == 404:  # never declared: nothing waiting
                return 0
            raise


def _filesystem_depth(folder: Path, queue: str) -> int:
    """Messages of kombu's filesystem transport: ``<time>_<uuid>.<queue>.msg`` files."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    return sum(1 for name in names if name.partition(".")[2] == f"{queue}.msg")


# --- local state ----------------------------------------------------------------------------


def spool_backlog(folder: Path, now: float | None = None) -> dict[str, Any]:
    """``{path, count, oldest_age_seconds, sent}`` of the jobs waiting in the spool, and how
    many were sent and await the store's confirmation."""
    now = time.time() if now is None else now
    count, oldest = 0, None
    for mtime in [*_job_times(folder), *_job_times(folder / SENDING)]:
        count += 1
        oldest = mtime if oldest is None else min(oldest, mtime)
    age = None if oldest is None else round(max(0.0, now - oldest), 1)
    sent = sum(1 for _ in _job_times(folder / SENT))
    free = free_bytes(folder)
    return {
        "path": str(folder),
        "count": count,
        "oldest_age_seconds": age,
        "sent": sent,
        "sent_keys": _sealed_under(folder / SENT),
        "free_bytes": free,
        "disk_full": free is not None and free < LOW_DISK_BYTES,
    }


LOW_DISK_BYTES = 64 * 1024 * 1024  # below this, a hook may fail to spool or move its offset


def free_bytes(folder: Path) -> int | None:
    """Bytes free to this user on the disk that holds ``folder`` (or its nearest parent)."""
    for path in (folder, *folder.parents):
        try:
            stats = os.statvfs(path)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize
    return None


def _sealed_under(folder: Path) -> dict[str, int]:
    """How many of the jobs in ``folder`` each key id sealed (a worker lacking one lets its
    jobs wait: ``left_jobs`` on its side)."""
    keys: dict[str, int] = {}
    for entry in _job_files(folder):
        try:
            delta = json.loads(Path(entry).read_text(encoding="utf-8"))["delta"]
            if delta.get("encoding") != SEALED:
                continue
            key = key_id_of(base64.b64decode(delta["data"][:12]))  # its version and key id
        except (OSError, ValueError, KeyError, TypeError, binascii.Error):
            continue
        keys[key] = keys.get(key, 0) + 1
    return keys


def _job_files(folder: Path) -> list[str]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return [e.path for e in entries if e.name.endswith(".json") and not e.name.startswith(".")]


def _job_times(folder: Path) -> Iterator[float]:
    for path in _job_files(folder):
        try:
            yield os.stat(path).st_mtime
        except FileNotFoundError:  # delivered meanwhile
            continue


def left_jobs(path: Path) -> dict[str, Any]:
    """Jobs this machine's workers let go for another worker (``left-jobs.jsonl``): how many,
    under which key ids they wait (a key this machine's ring lacks), and for which other
    stores."""
    keys: dict[str, int] = {}
    stores: dict[str, int] = {}
    count, last = 0, None
    for record in _json_lines(path):
        count += 1
        for name, tally in (("key_id", keys), ("store", stores)):
            value = record.get(name)
            if isinstance(value, str):
                tally[value] = tally.get(value, 0) + 1
        if isinstance(record.get("at"), int | float):
            last = record["at"]
    at = _iso(datetime.fromtimestamp(last, UTC).replace(tzinfo=None)) if last else None
    return {"path": str(path), "count": count, "keys": keys, "stores": stores, "last_at": at}


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a local record file, one a line (none when it is missing)."""
    records: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
    except FileNotFoundError:
        pass
    return records


def local_failed_jobs(path: Path, latest: int = LATEST) -> dict[str, Any]:
    """Failures recorded on disk while the database was down (``failed-jobs.jsonl``)."""
    records = _json_lines(path)
    shown = [
        {
            "job_id": r.get("job_id"),
            "task_name": r.get("task_name"),
            "reason": r.get("reason"),
            "at": _iso(datetime.fromtimestamp(r["at"], UTC).replace(tzinfo=None))
            if isinstance(r.get("at"), int | float)
            else None,
        }
        for r in reversed(records[-latest:])
    ]
    return {"path": str(path), "count": len(records), "latest": shown}


# --- database -------------------------------------------------------------------------------


def failed_jobs(db: Session, latest: int = LATEST) -> dict[str, Any]:
    """``{count, latest}``: jobs that can never succeed, newest first, with their reasons."""
    count = db.scalar(select(func.count()).select_from(FailedJob)) or 0
    rows = db.scalars(
        select(FailedJob).order_by(FailedJob.created_at.desc(), FailedJob.id).limit(latest)
    ).all()
    return {
        "count": count,
        "latest": [
            {
                "job_id": row.job_id,
                "task_name": row.task_name,
                "reason": row.reason,
                "attempts": row.attempts,
                "at": _iso(row.created_at),
            }
            for row in rows
        ],
    }


def last_maintenance_runs(settings: Settings) -> dict[str, Any]:
    """``{job: {started_at, finished_at, outcome, detail}}`` of the beat jobs; empty before
    maintenance exists or has recorded a run."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from contextrecall.maintenance.runs import last_runs

    try:
        with session_scope(settings) as db:
            return _jsonable(last_runs(db))
    except (OperationalError, ProgrammingError):  # its table is not there yet
        return {}


# --- text -----------------------------------------------------------------------------------


def format_status(report: dict[str, Any]) -> str:
    lines = [
        f"database  {report['database']}"
        + (f"  (store {report['store']})" if report.get("store") else ""),
        "revision  none yet: the worker of the first session creates the database"
        if report.get("not_created_yet")
        else f"revision  {report['revision'] or 'base'}"
        + (
            "" if report["up_to_date"] else f"  (run `recall db upgrade`: head is {report['head']})"
        ),
    ]
    config = report.get("config_file")
    if config:
        lines.append(
            f"config    {config['path']}" + ("" if config["exists"] else " (none: `recall config`)")
        )
    worker = report.get("worker")
    if worker:
        if worker["alive"]:
            pid = f" (pid {worker['pid']}, log {worker['log']})" if worker["pid"] else ""
            lines.append(f"worker    alive{pid}")
        elif worker["autostart"]:
            lines.append("worker    none running; the next hook with work starts one")
        else:
            lines.append("worker    none running (start one: `recall worker`)")
    if "hooks" in report:
        if not report["hooks"]:
            lines.append("hooks     not installed (run `recall install`)")
        for hooks in report["hooks"]:
            events = ", ".join(hooks["events"])
            how = "plugin enabled" if hooks.get("plugin") else "recall hook"
            lines.append(f"hooks     {hooks['scope']}: {how} in {hooks['path']} ({events})")
        plugin = [h for h in report["hooks"] if h.get("plugin")]
        own = [h for h in report["hooks"] if not h.get("plugin") and h["scope"] not in OTHER_AGENTS]
        lines.extend(
            "hooks     INSTALLED TWICE: the plugin and `recall install` both run every hook "
            f"-> recall uninstall --scope {hooks['scope']}"
            for hooks in (own if plugin else [])
        )
    for error in report.get("hook_errors") or []:
        fix = f"  -> {error['fix']}" if error["fix"] else ""
        lines.append(f"hook log  {error['line'][:160]}{fix}")
    for queue in (report.get("queue"), report.get("store_queue")):
        if not queue:
            continue
        depth = queue["depth"]
        shown = f"{depth} waiting" if depth is not None else f"unavailable ({queue.get('error')})"
        lines.append(f"queue     {queue['queue']} on {queue['broker']}: {shown}")
    spool = report.get("spool")
    if spool:
        age = spool["oldest_age_seconds"]
        lines.append(
            f"spool     {spool['count']} job(s)"
            + (f", oldest {_duration(age)} old" if age is not None else "")
            + (" (deliver with `recall spool flush`)" if spool["count"] else "")
            + (f"; {spool['sent']} sent, awaiting the store" if spool.get("sent") else "")
            + (
                " (sealed under key id(s) "
                + ", ".join(f"{k} ({n})" for k, n in sorted(spool["sent_keys"].items()))
                + ")"
                if spool.get("sent") and spool.get("sent_keys")
                else ""
            )
        )
        if report.get("waiting_transcripts"):
            lines.append(
                f"waiting   {report['waiting_transcripts']} transcript(s) a hook named before "
                "Claude Code wrote them; the next save hook saves them"
            )
        if spool.get("disk_full"):
            lines.append(
                f"disk      FULL: {spool['free_bytes'] // (1024 * 1024)} MB free where the spool "
                "and offsets live; hooks cannot save until space is freed"
            )
    failed = report.get("failed_jobs")
    if failed:
        local = failed.get("local") or {"count": 0, "latest": []}
        lines.append(
            f"failed    {failed['count']} job(s)"
            + (f", {local['count']} more in {local['path']}" if local["count"] else "")
        )
        for item in [*failed["latest"], *local["latest"]][:LATEST]:
            reason = (item.get("reason") or "").splitlines()[0][:120] if item.get("reason") else ""
            lines.append(f"  {item.get('at') or '-':<20} {item.get('job_id')}  {reason}")
    left = report.get("left_jobs")
    if left and left["count"]:
        keys = ", ".join(f"{key} ({n})" for key, n in sorted(left["keys"].items()))
        stores = ", ".join(f"{s} ({n})" for s, n in sorted(left.get("stores", {}).items()))
        lines.append(
            f"left      {left['count']} job(s) let go for another worker, last {left['last_at']}"
            + (f": sealed under key id(s) {keys} this worker lacks" if keys else "")
            + (f"; for other store(s) {stores}" if stores else "")
            + "; their senders keep them and send them again (`recall keys status` shows this ring)"
        )
    if "maintenance" in report:
        runs = report["maintenance"]
        for job in sorted({"decay", "cleanup", *runs}):
            run = runs.get(job)
            if not run:
                lines.append(f"{job:<9} never run")
                continue
            when = run.get("finished_at") or run.get("started_at") or "?"
            detail = _detail(run.get("detail"))
            lines.append(f"{job:<9} last {when}: {run.get('outcome') or '?'}{detail}")
    if report["rows"]:
        lines.append("rows")
        lines.extend(f"  {name:<24}{count:>10}" for name, count in report["rows"].items())
    return "\n".join(lines)


def _detail(detail: Any) -> str:
    """A run's detail on one line: ``  key=value, ...`` for a dict."""
    if not detail:
        return ""
    if isinstance(detail, dict):
        if detail.get("summary"):
            return f"  {detail['summary']}"
        return "  " + ", ".join(f"{key}={value}" for key, value in detail.items())
    return f"  {detail}"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat()


def _jsonable(value: Any) -> Any:
    """Datetimes as ISO strings, recursively (the report goes through json.dumps)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _safe_broker_url(url: str) -> str:
    """``url`` with its password masked."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
