"""Every exchange of a coding session as memory a search can find and show.

An exchange runs from one request (a prompt the person typed, or a subagent's task) to the
next. Each becomes a few small snippets rather than one summary, so the knowledge is kept and
the read path picks what a question needs:

- ``exchange``: what was asked and what the agent concluded (its texts, the last one longest);
- ``command``: each distinct shell command with its outcome (exit status, the error, the test
  summary line) and a bounded, redacted excerpt of its output (the lines that matter);
- ``files``: files edited, created, read and moved, under their final paths, each edit in a
  compact form (the first line that changed, old and new);
- ``fix``: an error together with the change that followed it and the run that then worked;
- ``found``: what a search tool found (paths, matching lines), and other tools' results;
- ``report``: a subagent's final report, whole; ``summary``: a compaction summary, whole, one
  snippet per section.

Each snippet carries the time its exchange happened. Pure: events in, snippets out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from contextrecall.compression import commands as cmd
from contextrecall.compression import compaction
from contextrecall.compression import decisions as dec
from contextrecall.compression import snippets as snip
from contextrecall.compression.digest import (
    BUILTIN_COMMANDS,
    EDIT_TOOLS,
    absolute,
    refused,
    write_call,
)
from contextrecall.compression.excerpts import (
    ANSI,
    EXCERPT_LINES,
    REQUEST_CHARS,
    SETTINGS_CHARS,
    SETTINGS_LINES,
    excerpt,
    salience,
    shorten_block,
    told,
)
from contextrecall.compression.summary import relative
from contextrecall.compression.text import shorten, squash
from contextrecall.memory import READ_ONLY_TAG, Snippet
from contextrecall.tagging import command_tags
from contextrecall.terms import ERRORS_LABEL
from contextrecall.transcript.events import (
    WINDOWS_ABSOLUTE,
    AssistantMessage,
    CompactionSummary,
    Event,
    SessionInfo,
    ToolCall,
    ToolResult,
    UserPrompt,
)

LISTING_TOOLS = frozenset({"Glob", "LS"})  # file names found: the files read next say more
SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
LOOKS = frozenset({"Read", "Glob", "Grep", "LS", "WebFetch", "WebSearch"})  # nothing to fix
SKIPPED_TOOLS = frozenset({"TodoWrite", "ExitPlanMode", "BashOutput", "TaskOutput", "KillShell"})

TASK_CHARS = 400  # of a task the main agent wrote for a subagent: its report says more
TEXT_CHARS = 400  # of each of the agent's texts but the last
LAST_TEXT_CHARS = 1500  # of the agent's last text in an exchange: its conclusion
EXCHANGE_CHARS = 3200
RUNNING = "no result, the session ended while it ran"
_LAUNCHED = re.compile(r"Async agent launched\b")  # a background subagent's start, not its report
QUESTION_CHARS, ANSWER_CHARS = 120, 500  # of a question the agent asked, of its answer
DEFINITION_LINES = 6  # declarations kept of one written or edited file
DEFINITION_CHARS = 300
EDIT_LINE_CHARS = 140
REPORT_CHARS = 6000
REPORT_IDENTITY_CHARS = 2000  # a report's opening: what tells one report from another
SECTION_CHARS = 6000
COMMAND_CHARS = 300  # a command as kept: without `cd` prefixes and output filters
MAX_COMMANDS = 40  # distinct commands kept of one exchange
MAX_EDITS = 30  # compact edits shown of one exchange
FILES_CHARS = 1000
CHANGES_SHOWN = 3  # compact edits shown of one file in one exchange

# Commands whose success says nothing worth recalling (moves are kept with the files).
_CHORE = re.compile(
    r"^(?:cd|mkdir|touch|sleep|echo|printf|chmod|chown|cp|rm|mv|true|pwd|clear|kill|pkill|"
    r"wait|open|xdg-open)\b(?!.*(?:&&|\|\||;))"
)
# A line of pasted output that names an error: a traceback's last line, a compiler's
# "error[E0308]: …", a test runner's "FAILED …".
_PASTED_ERROR = re.compile(
    r"^[ \t]*(?:(?:[\w.]*(?:Error|Exception)|error|fatal|panic)(?:\[\w+\])?:[ \t]\S.*"
    r"|FAILED[ \t]\S.*)$",
    re.M,
)
# Commands that print a file: its lines are the file's, not news.
_PRINTS_FILE = re.compile(r"^(?:cat|head|tail|less|more|sed -n|bat|nl)\b")
_TASK_TRAILER = re.compile(r"\n+agentId: \w+.*\Z", re.S)  # the harness's note after a report
_NOTICE_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.S)
_NOTICE_CALL = re.compile(r"<tool-use-id>\s*(\S+?)\s*</tool-use-id>")
_NOTICE_NAMES = re.compile(r'"([^"]+)"')
_NOTICE_RESULT = re.compile(r"<result>(.*?)(?:</result>|\Z)", re.S)


@dataclass
class Run:
    """A shell command of an exchange and how it ended."""

    command: str
    description: str | None
    outcome: str
    detail: str | None
    excerpt: str
    failed: bool
    when: str | None = None  # when it ran
    call_id: str = ""  # of the tool call, which a background task's notification names


@dataclass
class Fix:
    """An error, the agent's explanation of it, the edits that followed, the run that worked."""

    error: str
    explanation: str | None = None
    edits: list[tuple[str, str]] = field(default_factory=list)  # (path, compact change)
    rerun: str | None = None
    family: str | None = None  # of the command that failed (``git push``)


@dataclass
class Exchange:
    """What happened between one request and the next."""

    request: str | None = None
    started_at: str | None = None
    subagent: bool = False  # a subagent's task run inside the main transcript (1.x)
    texts: list[str] = field(default_factory=list)
    runs: dict[tuple[str, str | None], Run] = field(default_factory=dict)
    edits: list[tuple[str, str]] = field(default_factory=list)  # (path, compact change)
    created: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    definitions: dict[str, list[str]] = field(default_factory=dict)  # path: declaration lines
    named: dict[str, list[str]] = field(default_factory=dict)  # path: the other ones' names
    edited_at: dict[str, str | None] = field(default_factory=dict)  # path: its last edit's time
    reports: list[tuple[str, str]] = field(default_factory=list)  # (task, report)

    def empty(self) -> bool:
        return not (self.request or self.texts or self.runs or self.edits or self.reads)


@dataclass
class ExchangeLog:
    """Folds a session's events into its exchanges (``add``), then snippets (``snippets``)."""

    root: str | None = None
    cwd: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    summaries: list[tuple[CompactionSummary, str | None]] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)
    current: Exchange = field(default_factory=Exchange)
    subagent: bool = False  # a subagent's own transcript: its last text is its report
    # this exchange's commands whose results have not come yet
    running: dict[str, ToolCall] = field(default_factory=dict)
    _pending: Fix | None = None  # the last error, until an edit and a working run follow
    _last_time: str | None = None

    def add(self, event: Event) -> None:
        timestamp = getattr(event, "timestamp", None)
        if isinstance(timestamp, str):
            self._last_time = timestamp
            self.current.started_at = self.current.started_at or timestamp
        if isinstance(event, SessionInfo):
            self.root = self.root or event.cwd
            self.cwd = event.cwd or self.cwd
        elif isinstance(event, UserPrompt):
            self._prompt(event)
        elif isinstance(event, AssistantMessage):
            self.running.update((c.id, c) for c in event.tool_calls if c.name == "Bash" and c.id)
            if event.text.strip():
                self.current.texts.append(event.text.strip())
                if self._pending is not None and self._pending.explanation is None:
                    self._pending.explanation = snip.explanation_in(event.text)
        elif isinstance(event, ToolResult):
            self._result(event)
        elif isinstance(event, CompactionSummary):
            self.summaries.append((event, event.timestamp or self._last_time))

    # -- requests ----------------------------------------------------------------------

    def _prompt(self, event: UserPrompt) -> None:
        text = squash(event.text)
        if not text:
            return
        if event.kind == "task-prompt" or (event.sidechain and event.kind == "typed"):
            # a subagent's task: the start of its own transcript, or (Claude Code 1.x) a
            # task run inside the main one, an exchange of its own either way
            if self.current.request is None and not self.exchanges:
                self.current.request = shorten(text, REQUEST_CHARS)
                self.subagent = True
            elif not self.subagent:
                self._close()
                self.current = Exchange(
                    request=shorten(text, TASK_CHARS),
                    started_at=event.timestamp,
                    subagent=True,
                )
            return
        if event.kind == "notification":
            self._notified(event.text)
            return
        if event.kind not in ("typed", "command") or text.split(" ", 1)[0] in BUILTIN_COMMANDS:
            return
        self._close()
        self.current = Exchange(request=shorten(text, REQUEST_CHARS), started_at=event.timestamp)
        pasted = _PASTED_ERROR.search(event.text)
        if pasted:  # an error the person met and pasted: what the exchange is to fix
            self._error(shorten(squash(pasted.group(0)), 300))
        if len(text) > REQUEST_CHARS:  # a log, a trace, a plan: past what the request keeps
            lines = event.text.count("\n") + 1
            self.current.found.append(f"Pasted by the user (of {lines} lines):\n{told(event.text)}")

    def _notified(self, text: str) -> None:
        """A background task's notification: a subagent's report (its ``<result>``) is a
        report of this exchange; how a command ended goes with that command's run (named by
        its call id, or by the description the summary quotes)."""
        summary = _NOTICE_SUMMARY.search(text)
        if summary is None:
            return
        call = _NOTICE_CALL.search(text)
        quoted = _NOTICE_NAMES.search(summary.group(1))
        result = _NOTICE_RESULT.search(text)
        if result and result.group(1).strip():
            task = quoted.group(1) if quoted else "task"
            report = html.unescape(result.group(1).strip())  # XML-escaped in the notification
            self.current.reports.append((task, report[:REPORT_CHARS]))
            return
        for exchange in [self.current, *reversed(self.exchanges)]:
            for run in reversed(exchange.runs.values()):
                if (call and run.call_id == call.group(1)) or (
                    not call and quoted and run.description == quoted.group(1)
                ):
                    ended = squash(summary.group(1))
                    run.detail = f"{run.detail}; {ended}" if run.detail else ended
                    return

    def _close(self) -> None:
        self.running.clear()  # a command of an earlier exchange never answered: interrupted
        if self._pending is not None and self._pending.edits:
            self.current.fixes.append(self._pending)
        self._pending = None
        if not self.current.empty():
            self.exchanges.append(self.current)

    # -- tool results ------------------------------------------------------------------

    def _result(self, event: ToolResult) -> None:
        call = event.call
        if call is not None:
            self.running.pop(call.id, None)
        if call is None or event.details.get("rejected"):
            return
        name = call.name
        if name == "Bash":
            self._bash(call, event)
        elif name in EDIT_TOOLS:
            self._edit(call, event)
        elif name == "Read":
            path = call.input.get("file_path")
            if isinstance(path, str) and not event.is_error:
                self.current.reads.append(path)
        elif name in SUBAGENT_TOOLS:
            task = call.input.get("description") or call.input.get("subagent_type") or "task"
            report = _TASK_TRAILER.sub("", event.content).strip()
            # a subagent run in the background (asked so, or so defined) is only launched
            # here: its report comes later, in the notification that it finished
            background = call.input.get("run_in_background") or _LAUNCHED.match(report)
            if report and not event.is_error and not background:
                self.current.reports.append((str(task), report[:REPORT_CHARS]))
        elif name == "AskUserQuestion" and event.details.get("answers"):
            self._answered(event.details["answers"], event.details.get("notes") or {})
        elif name not in SKIPPED_TOOLS and name not in LISTING_TOOLS:
            self._found(call, event)
        if event.is_error and name != "Bash" and not refused(event):
            self._error(f"{name}: {_first_lines(event.content, 2)}", fixable=name not in LOOKS)

    def _bash(self, call: ToolCall, event: ToolResult, running: bool = False) -> None:
        command = call.input.get("command")
        if not isinstance(command, str) or not command.strip():
            return
        writes, command = cmd.file_writes(command)
        for path, content in writes:  # a file written with a here-document: an edit
            self._edit(write_call(call.id, self._absolute(path), content), event)
        if not command.strip():
            return
        for source, target in cmd.moves_in(command):
            if not event.is_error:
                self.moves[self._absolute(source)] = self._absolute(target)
        key = cmd.command_key(command) or squash(command)
        outcome = (
            cmd.Outcome("unknown", RUNNING)
            if running
            else cmd.classify(key, event.content, event.is_error)
        )
        failed = outcome.outcome in ("failed", "tests-failed")
        if not failed and (_CHORE.match(key) or cmd.is_listing(key)):
            return  # mkdir, cp, sleep, ls …: nothing anyone asks about later
        found = [outcome.error, outcome.tests]
        if failed:  # what went wrong, then the runner's count
            found.insert(0, cmd.error_line(event.content))
        detail = "; ".join(dict.fromkeys(part for part in found if part))
        description = call.input.get("description")
        run = Run(
            command=shorten(key, COMMAND_CHARS),
            description=description if isinstance(description, str) else None,
            outcome=outcome.outcome,
            detail=shorten(detail, 300) if detail else None,
            excerpt=_run_excerpt(key, command, event.content, outcome.outcome),
            failed=failed,
            when=event.timestamp or self._last_time,
            call_id=call.id,
        )
        runs = self.current.runs
        # The last run of a command says how it ended; each distinct failure stays too.
        slot = (key, run.detail) if failed else (key, None)
        if slot in runs or len(runs) < MAX_COMMANDS:
            runs.pop(slot, None)
            runs[slot] = run
        if failed:
            error = f"`{run.command}`: {run.detail or _first_lines(event.content, 2)}"
            # a look that found nothing (``ls missing/``) has nothing to fix
            self._error(error, cmd.command_family(key), fixable=not cmd.is_exploration(key))
        elif self._pending is not None and outcome.outcome in ("ok", "tests-passed"):
            pending = self._pending
            # fixed by edits, then a run that worked; or by running it another way
            # (``git push`` failing, then ``git push --set-upstream …`` working)
            if pending.edits or (
                pending.family == cmd.command_family(key) and run.command not in pending.error
            ):
                pending.rerun = run.command
                self.current.fixes.append(pending)
                self._pending = None

    def _error(self, error: str, family: str | None = None, fixable: bool = True) -> None:
        self.current.errors.append(shorten(error, 400))
        if fixable and (self._pending is None or self._pending.edits):
            self._pending = Fix(shorten(error, 400), family=family)

    def _edit(self, call: ToolCall, event: ToolResult) -> None:
        path = call.input.get("file_path") or call.input.get("notebook_path")
        if not isinstance(path, str) or not path or event.is_error:
            return
        written = definitions(call)
        # a written file's declarations are its code snippet; its first lines add imports
        change = "" if call.name == "Write" and written else edit_summary(call)
        if call.name == "Write" and (
            event.details.get("type") == "create"
            or event.content.startswith("File created successfully")
        ):
            self.current.created.append(path)
        if len(self.current.edits) < MAX_EDITS:
            self.current.edits.append((path, change))
        self.current.edited_at[path] = event.timestamp or self._last_time
        declared = self.current.definitions.setdefault(path, [])
        limit = SETTINGS_LINES if _SETTINGS_FILE.search(path) else DEFINITION_LINES
        named = self.current.named.setdefault(path, [])
        for line in written:
            if line in declared:
                continue
            if len(declared) < limit:
                declared.append(line)
            elif (name := _declared_name(line)) and name not in named:
                named.append(name)
        if self._pending is not None and len(self._pending.edits) < 4:
            self._pending.edits.append((path, change))

    def _found(self, call: ToolCall, event: ToolResult) -> None:
        if not event.content.strip() or refused(event):
            return
        key = next(
            (k for k in ("pattern", "query", "url", "path") if isinstance(call.input.get(k), str)),
            "",
        )
        query = shorten(str(call.input[key]), 160) if key else ""
        scope = call.input.get("path")
        if key != "path" and isinstance(scope, str) and scope:  # what was searched, in where
            query = f"{query} in {self.relative(self._absolute(scope))}"
        lines = [self._shown_line(line) for line in event.content.splitlines() if line.strip()]
        body = excerpt("\n".join(lines), lines=4, chars=240)
        more = f" (of {len(lines)} lines)" if len(lines) > EXCERPT_LINES else ""
        failed = " failed" if event.is_error else ""
        self.current.found.append(f"{call.name} {query}{more}{failed}:\n{body}")

    def _answered(self, answers: dict[str, str], notes: dict[str, str]) -> None:
        """The person's answers to the agent's questions, each after its question (cut: the
        answer and the notes they wrote beside it are what is asked about later)."""
        lines = []
        for question, answer in answers.items():
            note = notes.get(question)
            said = dec.chosen(answer, note)
            lines.append(f"{shorten(question, QUESTION_CHARS)} → {shorten(said, ANSWER_CHARS)}")
            if note and said is not note:
                lines.append(f"  notes: {shorten(note, ANSWER_CHARS)}")
        self.current.found.append("The user answered:\n" + "\n".join(lines))

    def _shown_line(self, line: str) -> str:
        return self.relative(line.strip()) if line.strip().startswith("/") else line.rstrip()

    def _absolute(self, path: str) -> str:
        return absolute(path, self.cwd)

    # -- paths -------------------------------------------------------------------------

    def final(self, path: str) -> str:
        """``path`` after every move the session made (a moved folder moves what it holds)."""
        for _ in range(10):  # chains of moves, bounded
            moved = self.moves.get(path)
            if moved is None:
                for source, target in self.moves.items():
                    if path.startswith(source + "/"):
                        moved = target + path[len(source) :]
                        break
            if moved is None or moved == path:
                return path
            path = moved
        return path

    def relative(self, path: str) -> str:
        """The final path, relative to the project root when it is inside it."""
        return relative(self.final(path), self.root)

    # -- snippets ----------------------------------------------------------------------

    def snippets(self) -> list[Snippet]:
        """The snippets of every exchange so far, and of the compaction summaries."""
        for call in self.running.values():  # still running where the transcript ends
            self._bash(call, ToolResult(call.id, call=call), running=True)
        self._close()
        self.current = Exchange()
        out: list[Snippet] = []
        for exchange in self.exchanges:
            out += self._exchange_snippets(exchange)
        for summary, when in self.summaries:
            out += summary_snippets(summary, when)
        return without_repeated_lines(out)

    def _exchange_snippets(self, exchange: Exchange) -> list[Snippet]:
        topic = shorten(exchange.request or (exchange.texts[:1] or [""])[0], 100)
        when = exchange.started_at
        out = []
        texts = exchange.texts
        if exchange.subagent:
            texts = texts[:-1]  # its last text comes back whole as the Task's report
        elif self.subagent and exchange is self.exchanges[-1] and texts:
            # the same report the main session's Task result holds: one snippet for both
            texts, report = texts[:-1], texts[-1]
            exchange.reports.append(("report", report[:REPORT_CHARS]))
        said = _texts(texts)
        # errors of commands are with their commands; these are the other tools' errors
        errors = [e for e in dict.fromkeys(exchange.errors) if not e.startswith("`")][:3]
        # a request nothing answered yet is in the session's summary; its answer brings it
        if said or errors or exchange.runs or exchange.edits or exchange.reports:
            body = "\n".join(
                part
                for part in (
                    f"Asked: {exchange.request}" if exchange.request else "",
                    said,
                    ERRORS_LABEL + "; ".join(shorten(e, 200) for e in errors) if errors else "",
                )
                if part
            )
            out.append(_snippet("exchange", "", shorten_block(body, EXCHANGE_CHARS), when))
        for (key, _), run in exchange.runs.items():
            shown = _snippet(
                "command", run.description or topic, self._run_text(run), run.when or when
            )
            shown.tags = sorted(command_tags(key))
            if run.outcome == "ok" and cmd.only_looks(key):
                shown.tags.append(READ_ONLY_TAG)
            out.append(shown)
        files = shorten_block(self._files_text(exchange), FILES_CHARS)
        if files:
            out.append(_snippet("files", f"Files: {topic}", files, when))
        for fix in exchange.fixes:
            changed = "; ".join(
                f"{self.relative(path)}" + (f": {change}" if change else "")
                for path, change in fix.edits
            )
            text = f"Error: {self._relative_text(fix.error)}"
            if fix.explanation:
                text += f"\nWhy: {fix.explanation}"
            if changed:
                text += f"\nFixed by: {changed}"
            if fix.rerun:
                rerun = self._relative_text(fix.rerun)
                text += f"\nThen `{rerun}` worked." if changed else f"\nFixed by: `{rerun}`"
            out.append(_snippet("fix", f"Fix: {topic}", text, when, importance=1.2))
        for found in exchange.found:
            out.append(_snippet("found", "", found, when, importance=0.8))
        for path, lines in exchange.definitions.items():
            if lines:
                shown = self.relative(path)
                limit = SETTINGS_CHARS if _SETTINGS_FILE.search(path) else DEFINITION_CHARS
                body = shorten_block("\n".join([f"{shown}:", *lines]), limit)
                names = exchange.named.get(path)
                if names:
                    body += "\n" + shorten(f"also declares: {', '.join(names)}", NAMES_CHARS)
                # dated by its file's last edit: "its last changes" are the newest edits
                out.append(_snippet("code", "", body, exchange.edited_at.get(path) or when))
        for _task, report in exchange.reports:
            shown = _snippet("report", "Subagent report", report, when)
            # the subagent's transcript and the main session's Task result hold the same
            # report, one of them sometimes cut: the same memory by its opening
            shown.identity = report[:REPORT_IDENTITY_CHARS]
            out.append(shown)
        return out

    def _run_text(self, run: Run) -> str:
        ended = {
            "ok": "exit 0",
            "failed": "failed",
            "tests-passed": "tests passed",
            "tests-failed": "tests failed",
        }.get(run.outcome, "ran")
        text = f"$ {self._relative_text(run.command)}\n-> {ended}"
        if run.detail:
            text += f": {self._relative_text(run.detail)}"
        detail = run.detail or ""
        news = [line for line in run.excerpt.splitlines() if squash(line) not in detail]
        if news:
            text += "\n" + self._relative_text("\n".join(news))
        return text

    def _files_text(self, exchange: Exchange) -> str:
        lines = []
        created = {self.relative(p) for p in exchange.created}
        changes: dict[str, list[str]] = {}  # path: its distinct changes, in order
        for path, change in exchange.edits:
            shown = changes.setdefault(self.relative(path), [])
            if change and change not in shown:
                shown.append(change)
        for shown, changed in changes.items():
            verb = "created" if shown in created else "edited"
            more = len(changed) - CHANGES_SHOWN
            listed = "; ".join(changed[:CHANGES_SHOWN]) + (f" (+{more} more)" if more > 0 else "")
            lines.append(f"{verb} {shown}" + (f": {listed}" if listed else ""))
        moved = [
            f"moved {relative(source, self.root)} -> {self.relative(target)}"
            for source, target in self.moves.items()
            if any(p.startswith(source) for p, _ in exchange.edits) or not exchange.edits
        ]
        reads = list(dict.fromkeys(self.relative(p) for p in exchange.reads))
        edited = {self.relative(p) for p, _ in exchange.edits}
        reads = [p for p in reads if p not in edited]
        if reads:
            lines.append("read " + ", ".join(reads[:12]) + (" …" if len(reads) > 12 else ""))
        if lines:
            lines += moved[:5]
        return "\n".join(lines)

    def _relative_text(self, text: str) -> str:
        root = (self.root or "").rstrip("/")
        if not root:
            return text
        if WINDOWS_ABSOLUTE.match(root):  # commands and their output write C:\Users\…
            text = text.replace(root.replace("/", "\\") + "\\", "")
            # and Git Bash's /c/Users/…, WSL's /mnt/c/Users/…
            drive = f"/{root[0].lower()}{root[2:]}/"
            text = text.replace(f"/mnt{drive}", "").replace(drive, "")
        return text.replace(root + "/", "")


EXCERPTED = frozenset({"command", "found", "code"})  # what holds lines of tool output
REPEAT_CHARS = 24  # shorter lines (`}`, `end`, a count) repeat without being news


def without_repeated_lines(snippets: list[Snippet]) -> list[Snippet]:
    """``snippets`` with the output lines an earlier snippet kept already left out of the
    later ones (a warning every ``npm`` run prints, the same ``git log`` lines): only a
    command's first two lines (the command and how it ended) always stay. A file's code left
    with nothing but its path is no memory: the exchange's files already name it."""
    seen: set[str] = set()
    out: list[Snippet] = []
    for snippet in snippets:
        if snippet.category in EXCERPTED:
            lines = snippet.content.splitlines()
            head = 2 if snippet.category == "command" else 1
            kept = lines[:head]
            for line in lines[head:]:
                key = squash(line).lower().rstrip(" …")
                if len(key) >= REPEAT_CHARS and key in seen:
                    continue
                seen.add(key)
                kept.append(line)
            snippet.content = "\n".join(kept)
            if snippet.category == "code" and len(kept) <= head < len(lines):
                continue
        out.append(snippet)
    return out


def _texts(texts: list[str]) -> str:
    """The agent's texts of an exchange: each but the last without its narration ("Let me
    check the tests.") and shortened, the last (its conclusion) kept longer."""
    if not texts:
        return ""
    earlier = [shorten(said, TEXT_CHARS) for t in texts[:-1] if (said := without_narration(t))]
    return "\n".join([*earlier, shorten_block(texts[-1], LAST_TEXT_CHARS)])


_NARRATION = re.compile(
    r"^(?:(?:now|ok(?:ay)?|good|great|perfect|excellent|alright|first|next|then)[,!.]?\s+)*"
    r"(?:let me|let's|i'll|i will|i need to|i'm going to|i am going to|now i'll)\b",
    re.I,
)
_EXCLAMATION = re.compile(
    r"^(?:good|great|perfect|excellent|done|ok(?:ay)?|all good)\b[^.!?]{0,40}[.!]$", re.I
)


def without_narration(text: str) -> str:
    """``text`` without sentences that only announce the next step or cheer the last one."""
    kept = [
        sentence
        for sentence in re.split(r"(?<=[.!?:])\s+", squash(text))
        if sentence
        and not (len(sentence) < 140 and _NARRATION.match(sentence))
        and not _EXCLAMATION.match(sentence)
    ]
    return " ".join(kept)


def _snippet(
    category: str, title: str, content: str, when: str | None, importance: float = 1.0
) -> Snippet:
    return Snippet(
        category=category,
        title=shorten(title, 160),
        content=content,
        occurred_at=when,
        importance=importance,
    )


def summary_snippets(summary: CompactionSummary, when: str | None) -> list[Snippet]:
    """A compaction summary kept whole: one snippet per section (or per paragraph group when
    it has no sections), each section's heading in its title."""
    text = summary.text.strip()
    if not text:
        return []
    parts = compaction.sections(text)
    if not parts:
        chunks = _paragraph_groups(text, SECTION_CHARS)
        return [
            _snippet("summary", "Session summary (compacted)", chunk, when, importance=1.2)
            for chunk in chunks
        ]
    out = []
    for heading, body in parts.items():
        for chunk in _paragraph_groups(body, SECTION_CHARS):
            title = f"Session summary (compacted): {heading}"
            out.append(_snippet("summary", title, chunk, when, importance=1.2))
    return out


def _paragraph_groups(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most about ``limit`` characters, cut between paragraphs."""
    pieces, current = [], ""
    for paragraph in re.split(r"\n\s*\n", text):
        if current and len(current) + len(paragraph) + 2 > limit:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return [piece[: limit * 2] for piece in pieces if piece.strip()]


# A line that declares something worth finding later: a module, function, class, constant,
# module attribute, route, configuration key, or a sentence shown to users.
_DECLARATION = re.compile(
    r"""^\s*(?:(?:export\s+)?(?:default\s+)?(?:async\s+)?"""
    r"""(?:defmodule|def|defp|defmacro|defstruct|class|function|interface|type|enum|struct|"""
    r"""impl|fn|func|const|let|var)\s+(?P<name>\w[\w.$]*)"""
    r"""|@[a-z_]+\s+\S"""
    r"""|(?P<constant>[A-Z][A-Z0-9_]{2,})\s*[:=]"""
    r"""|(?:get|post|put|patch|delete|live|scope|forward|resources?|route)\s*\(?\s*["'/]"""
    r"""|config\s+:\w"""
    r"""|[\w-]+:\s*["'][^"']{3,}["'],?$)"""
    r"""|>\s*[A-Z][^<>{}]{12,}<"""
)
# Lines the declaration pattern takes that declare nothing to look for: an attribute set to a
# bare literal (``@moduledoc false``, ``@impl true``), a local variable (an indented ``const``).
_NOT_DECLARING = re.compile(
    r"""^\s*@[a-z_]+\s+(?:true|false|nil|None)\s*$|^(?:\s{4,}|\t\t)(?:const|let|var)\s"""
)
# In a test, a fixture's field (``comment: "will be closed"``): data, not a declaration.
_FIXTURE = re.compile(r"""^\s*[\w-]+:\s*["'][^"']*["'],?\s*$""")
_TEST_FILE = re.compile(r"(?:^|/)(?:tests?|spec|__tests__)/|[._-](?:test|spec)\.\w+$")
# A line of documentation in code (a comment, a docstring) that states something: it says
# what the code does in words a question uses.
_DOC_LINE = re.compile(r"^\s*(?:#|//|/?\*|--|;+)?\s*[A-Z`][^=;{}()]{20,}[.:]\s*$")
DOC_LINES = 2  # documentation lines kept of one edit
NAMES_CHARS = 400  # of the names of a file's declarations beyond those kept whole


def _declared_name(line: str) -> str | None:
    """What a declaration line declares (``def export_all(`` gives ``export_all``); None for
    one that names nothing (a route, a documentation line)."""
    match = _DECLARATION.search(line)
    return (match["name"] or match["constant"]) if match else None


def definitions(call: ToolCall) -> list[str]:
    """The declaration lines of what a Write, Edit or MultiEdit put into a file."""
    if call.name == "Write":
        texts = [call.input.get("content")]
    elif call.name == "MultiEdit" and isinstance(call.input.get("edits"), list):
        texts = [e.get("new_string") for e in call.input["edits"] if isinstance(e, dict)]
    else:
        texts = [call.input.get("new_string")]
    path = call.input.get("file_path")
    if isinstance(path, str) and _SETTINGS_FILE.search(path):
        return _settings(call, texts)
    test = isinstance(path, str) and bool(_TEST_FILE.search(path))
    found = []
    for text in texts:
        if not isinstance(text, str):
            continue
        documented = 0
        for line in text.splitlines():
            if len(line.strip()) > 200 or _NOT_DECLARING.match(line):
                continue
            if test and _FIXTURE.match(line):
                continue
            if _DECLARATION.search(line):
                found.append(line.strip())
            elif documented < DOC_LINES and _DOC_LINE.match(line) and len(line.split()) >= 5:
                found.append(line.strip())
                documented += 1
    return found


# Files whose every line is a value a later question may name: settings, manifests, unit
# files, environment files, documentation (a port, a version, a licence, a delay, a claim).
_SETTINGS_FILE = re.compile(
    r"\.(?:md|markdown|rst|txt|json|ya?ml|toml|ini|cfg|conf|env|properties|service|timer"
    r"|socket|lock|csproj|fsproj|vbproj|props|targets|gradle|gradle\.kts|gemspec)$"
    r"|(?:^|/)\.env(?:\.\w+)*$|(?:^|/)(?:Dockerfile|Makefile|Procfile|Gemfile|go\.mod|pom\.xml)$",
    re.I,
)


def _settings(call: ToolCall, texts: list[object]) -> list[str]:
    """The lines a Write, Edit or MultiEdit put into a settings or documentation file, those
    it only kept from before left out: fields first (``key: value``, ``KEY=value``), then by
    the ``salience`` of what they name; in the file's order."""
    olds = (
        [e.get("old_string") for e in call.input["edits"] if isinstance(e, dict)]
        if call.name == "MultiEdit" and isinstance(call.input.get("edits"), list)
        else [call.input.get("old_string")]
    )
    before = {line.strip() for old in olds if isinstance(old, str) for line in old.splitlines()}
    added = [
        line.strip()
        for text in texts
        if isinstance(text, str)
        for line in text.splitlines()
        if line.strip() not in before and 3 <= len(line.strip()) <= 200
    ]
    told = [(bool(_FIELD.search(line)), salience(line)) for line in added]
    ranked = sorted(range(len(added)), key=lambda n: (-told[n][0], -told[n][1], n))
    return [added[n] for n in sorted(ranked[:SETTINGS_LINES]) if any(told[n])]


_FIELD = re.compile(r"^[-*\s]*[\w.*\[\]\"' -]{1,40}?\**\s*[:=]\s*\S")


def edit_summary(call: ToolCall) -> str:
    """An edit in a line: the first line that changed, old and new; a written file's first
    meaningful lines."""
    if call.name == "Write":
        content = call.input.get("content")
        if not isinstance(content, str):
            return ""
        lines = [line.strip() for line in content.splitlines() if line.strip()]
        return "`" + shorten(" | ".join(lines[:3]), EDIT_LINE_CHARS * 2) + "`" if lines else ""
    edits = call.input.get("edits") if call.name == "MultiEdit" else [call.input]
    shown = []
    for edit in edits if isinstance(edits, list) else []:
        if not isinstance(edit, dict):
            continue
        old, new = edit.get("old_string"), edit.get("new_string")
        if not isinstance(old, str) or not isinstance(new, str):
            continue
        shown.append(_changed_line(old, new))
    return "; ".join(s for s in shown[:3] if s)


def _changed_line(old: str, new: str) -> str:
    old_lines = [line.strip() for line in old.splitlines() if line.strip()]
    new_lines = [line.strip() for line in new.splitlines() if line.strip()]
    removed = [line for line in old_lines if line not in new_lines]
    added = [line for line in new_lines if line not in old_lines]
    parts = []
    if removed:
        parts.append(f"- `{shorten(removed[0], EDIT_LINE_CHARS)}`")
    if added:
        more = f" (+{len(added) - 1} lines)" if len(added) > 1 else ""
        parts.append(f"+ `{shorten(added[0], EDIT_LINE_CHARS)}`{more}")
    return " ".join(parts)


def _run_excerpt(key: str, command: str, output: str, outcome: str) -> str:
    """What of a command's output is worth keeping: for a failure, or a command that lists
    or shows things, its telling lines; for a passing test run only its warnings (the
    summary line is kept already); otherwise a few lines. Lines that only echo the command
    (``bd close --reason "X"`` answering "Closed: X") are left out."""
    echoed = shingles_of(command)
    lines = [line for line in output.splitlines() if line.strip()]
    # the first line stays even when it repeats the command: it says how it ended
    text = "\n".join(lines[:1] + [line for line in lines[1:] if not _echoes(line, echoed)])
    if outcome in ("failed", "tests-failed"):
        return excerpt(text)
    if outcome == "tests-passed" or cmd.is_test_command(key):
        return excerpt(text, lines=3, minimum=3)
    if _PRINTS_FILE.match(key):
        return excerpt(text, lines=2, chars=160)
    if cmd.is_exploration(key) or cmd.is_read_only(key):
        return excerpt(text)
    return excerpt(text, lines=2, chars=200)


def shingles_of(text: str) -> set[tuple[str, ...]]:
    """Runs of three words of ``text`` (lowercase), to tell a line that repeats another."""
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:], words[2:], strict=False))


def _echoes(line: str, echoed: set[tuple[str, ...]]) -> bool:
    runs = shingles_of(line)
    return bool(runs) and len(runs & echoed) >= 0.6 * len(runs)


def _first_lines(text: str, count: int) -> str:
    lines = [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]
    return shorten(" ".join(lines[:count]), 300)
