"""Fold a stream of transcript events into the bounded facts a memory is made from.

``SessionDigest.add`` takes events one at a time and keeps only what compression needs
(counts, the last todo list, short candidate sentences), so a transcript of any length is
digested in memory proportional to what it yields, not to its size.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from contextrecall.compression import commands as cmd
from contextrecall.compression import compaction, next_steps
from contextrecall.compression import decisions as dec
from contextrecall.compression import snippets as snip
from contextrecall.compression.text import first_sentences, shorten, squash
from contextrecall.tagging import TagSignals, collect_call_signals
from contextrecall.transcript.events import (
    WINDOWS_ABSOLUTE,
    AssistantMessage,
    ChatTurn,
    CompactionSummary,
    Event,
    SessionInfo,
    ToolCall,
    ToolResult,
    UserPrompt,
    posix_path,
)

EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "NotebookEdit"})
_BUILTIN_TEXT = """
/model /mcp /clear /compact /cost /help /config /status /login /logout /resume /exit
/permissions /hooks /memory /doctor /vim /terminal-setup /ide /agents /context /statusline
/usage /rewind /export /add-dir /bashes /release-notes /upgrade /output-style /todos
/plugin /privacy-settings /theme /fast
"""
BUILTIN_COMMANDS = frozenset(_BUILTIN_TEXT.split())
MAX_REQUESTS = 40
MAX_CANDIDATES = 300
MAX_GOTCHAS = 60
MAX_COMMANDS = 2000
MAX_COMPACTIONS = 8
MAX_PULL_REQUESTS = 5
TOOL_ERRORS = 3  # the last distinct ones kept
# How a tool refuses a call ("String to replace not found in file."): the agent's use of it
# went wrong, not the project; one that only says a parallel call failed names no error.
TOOL_REFUSAL = "<tool_use_error>"
_REFUSAL_TAGS = re.compile(r"</?tool_use_error>")
_ECHOED_ERROR = "Sibling tool call errored"
_MARKDOWN_FILE = re.compile(r"\.(?:md|markdown)$", re.I)
_TASK_ID = re.compile(r"Task #?(\w+)")


def refused(event: ToolResult) -> bool:
    """A tool refusing a call ("File has not been read yet"): how the agent used its tools,
    not a fact of the project."""
    return TOOL_REFUSAL in event.content


@dataclass
class FileRecord:
    """A file the session touched; ``order`` is when it was first touched."""

    path: str
    edits: int = 0
    created: bool = False
    reads: int = 0
    order: int = 0
    edited: int = 0  # when last edited


@dataclass
class CommandRecord:
    """Every run of one distinct command (its ``command_key``), folded together."""

    key: str
    display: str
    family: str
    order: int  # when first run
    last: int = 0  # when last run
    sidechain: bool = False
    runs: int = 0
    outcome: str = "unknown"
    error: str | None = None
    tests: str | None = None
    failed: bool = False
    resolved: bool | None = None


@dataclass
class Failure:
    """A failed command not yet followed by a working run."""

    key: str
    family: str
    display: str
    error: str


@dataclass
class Todo:
    """An item of the agent's todo list (TodoWrite) or task list (TaskCreate)."""

    content: str
    status: str = "pending"


def absolute(path: str, cwd: str | None) -> str:
    """``path`` (unquoted, no trailing slash) made absolute against the session's ``cwd``."""
    path = posix_path(path.strip("'\""))
    if path.startswith("/") or WINDOWS_ABSOLUTE.match(path) or not cwd:
        return path.rstrip("/")
    return f"{cwd.rstrip('/')}/{path}".rstrip("/")


def write_call(call_id: str, path: str, content: str) -> ToolCall:
    """The Write call a file written with a here-document amounts to."""
    return ToolCall(call_id, "Write", {"file_path": path, "content": content})


@dataclass
class SessionDigest:
    """What compression keeps of a session while its events stream past."""

    session_id: str | None = None
    root: str | None = None  # the first working directory: the project
    cwd: str | None = None
    branch: str | None = None
    worktrees: dict[str, str] = field(default_factory=dict)  # the git worktrees it added: branch
    worktree: str | None = None  # of them, the one it last worked in
    started_at: str | None = None
    ended_at: str | None = None
    requests: list[str] = field(default_factory=list)
    last_request: str = ""  # the last of them as typed or pasted, its lines kept
    weak_requests: list[str] = field(default_factory=list)
    task_prompts: list[str] = field(default_factory=list)
    last_texts: deque[str] = field(default_factory=lambda: deque(maxlen=3))
    compactions: list[CompactionSummary] = field(default_factory=list)
    todos: list[Todo] = field(default_factory=list)
    tasks: dict[str, Todo] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)
    commands: dict[str, CommandRecord] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    pull_requests: list[str] = field(default_factory=list)  # the last named last
    # (tool, the file it was given, what it said) of the last refused calls, the last last
    tool_errors: list[tuple[str, str | None, str]] = field(default_factory=list)
    candidates: list[dec.Candidate] = field(default_factory=list)
    gotchas: list[str] = field(default_factory=list)
    config: dict[str, list[str]] = field(default_factory=dict)
    plans: list[str] = field(default_factory=list)
    planned: dict[str, list[str]] = field(default_factory=dict)  # markdown file -> its "Next:"s
    reported_next: list[str] = field(default_factory=list)  # the newest report's next steps
    offered: str | None = None  # what the agent last offered or asked to do next
    turns: list[ChatTurn] = field(default_factory=list)
    signals: TagSignals = field(default_factory=TagSignals)
    assistant_messages: int = 0
    open_failures: dict[str, Failure] = field(default_factory=dict)
    unanswered: dict[str, ToolCall] = field(default_factory=dict)
    background: dict[str, str] = field(default_factory=dict)
    order: int = 0
    committed: int = 0  # when the session last made a commit
    _expanding: int | None = None

    def add(self, event: Event) -> None:
        """Fold one event in."""
        self.order += 1
        timestamp = getattr(event, "timestamp", None)
        if isinstance(timestamp, str) and not isinstance(event, ChatTurn):
            self.started_at = self.started_at or timestamp
            self.ended_at = timestamp
        if isinstance(event, AssistantMessage):
            self._assistant(event)
        elif isinstance(event, ToolResult):
            self._result(event)
        elif isinstance(event, UserPrompt):
            self._prompt(event)
        elif isinstance(event, SessionInfo):
            self.session_id = event.session_id or self.session_id
            self.root = self.root or event.cwd
            self.cwd = event.cwd or self.cwd
            self.branch = event.branch or self.branch
            # Claude Code's branch stays the checkout's: the worktree says where it worked
            inside = f"{event.cwd}/"
            entered = [p for p in self.worktrees if event.cwd and inside.startswith(f"{p}/")]
            self.worktree = entered[-1] if entered else self.worktree
        elif isinstance(event, CompactionSummary):
            self.compactions.append(event)
            solved = compaction.section(event.text, "problem solving")
            if solved:
                bullets = compaction.top_bullets(solved)[:3]
                self.candidates.extend(dec.candidates_from_compaction(bullets, self.order))
            if len(self.compactions) > MAX_COMPACTIONS:
                del self.compactions[1]
        elif isinstance(event, ChatTurn):
            self.turns.append(event)

    def finish(self) -> None:
        """Account for tool calls whose results never arrived (a transcript cut mid-turn)."""
        for call in list(self.unanswered.values()):
            if call.name in EDIT_TOOLS:
                self._edit(call, ToolResult(call.id, call=call))
        self.unanswered.clear()

    # -- prompts -------------------------------------------------------------------------

    def _prompt(self, event: UserPrompt) -> None:
        if event.sidechain or event.kind == "task-prompt":
            if event.kind in ("task-prompt", "typed") and len(self.task_prompts) < 5:
                self.task_prompts.append(shorten(event.text, 2000))
            return
        if event.kind == "meta" and self._expanding is not None:
            # the body a bare slash command expanded to says what it asks for
            command = self.weak_requests[self._expanding]
            self.weak_requests[self._expanding] = f"{command}: {first_sentences(event.text, 120)}"
            self._expanding = None
            return
        self._expanding = None
        name, _, args = event.text.partition(" ")
        if event.kind in ("command", "typed") and name in BUILTIN_COMMANDS:
            return
        if event.kind == "command" and not args.strip():
            self.weak_requests.append(event.text)
            self._expanding = len(self.weak_requests) - 1
            return
        if event.kind not in ("command", "typed"):
            return
        self._pull_requests(event.text)
        self.offered = None  # answered, or passed over: the offer is no longer what is next
        text = squash(event.text)
        if len(self.requests) >= MAX_REQUESTS:
            del self.requests[MAX_REQUESTS // 2]
        self.requests.append(shorten(text, 2000))
        self.last_request = event.text
        self.signals.texts.append(text[:2000])
        self.candidates.extend(dec.candidates_from_request(text[:4000], self.order))

    # -- assistant -----------------------------------------------------------------------

    def _assistant(self, event: AssistantMessage) -> None:
        self.assistant_messages += 1
        for call in event.tool_calls:
            if call.id:
                self.unanswered[call.id] = call
            if call.name == "TodoWrite":
                self._todo_write(call.input)
        text = event.text
        if text:
            if not event.sidechain:
                self.last_texts.append(text[:4000])
                said = self.last_texts[-1]
                offer = next_steps.offer_in(said)
                if steps := next_steps.steps_in(said):  # a new list of what is next
                    self.reported_next, self.offered = steps, offer
                elif offer:  # a question about one step: the earlier list still stands
                    self.offered = offer
            weight = 0.6 if event.sidechain else 1.0
            self._add_candidates(dec.candidates_in(text, self.order, weight))
            if len(self.gotchas) < MAX_GOTCHAS:
                self.gotchas.extend(snip.gotchas_in(text)[:3])
        if event.thinking:
            self._add_candidates(dec.candidates_in(event.thinking, self.order, 0.5))

    def _add_candidates(self, found: list[dec.Candidate]) -> None:
        self.candidates.extend(found)
        if len(self.candidates) > MAX_CANDIDATES:
            self.candidates.sort(key=lambda c: (-c.score, c.order))
            del self.candidates[MAX_CANDIDATES // 2 :]

    def _todo_write(self, tool_input: dict[str, Any]) -> None:
        todos = tool_input.get("todos")
        if not isinstance(todos, list):
            return
        items = [t for t in todos if isinstance(t, dict)]
        # Claude Code's content (or subject), Gemini CLI's description
        texts = [t.get("content") or t.get("subject") or t.get("description") for t in items]
        self.todos = [
            Todo(squash(str(text)), str(t.get("status")))
            for t, text in zip(items, texts, strict=True)
            if text
        ]

    # -- tool results --------------------------------------------------------------------

    def _result(self, event: ToolResult) -> None:
        call = event.call
        if call is not None:
            self.unanswered.pop(call.id, None)
        if event.details.get("rejected"):
            return
        name = call.name if call else None
        if call is not None and event.is_error and refused(event):
            self._refused(call, event.content)
        if call is None:
            if event.details.get("filePath") and event.details.get("type") in (
                None,
                "create",
                "update",
            ):
                self._edit(ToolCall(event.tool_use_id, "Write"), event)
            return
        if name in EDIT_TOOLS:
            self._edit(call, event)
        elif name == "Read":
            self._read(call, event)
        elif name == "Bash":
            self._bash(call, event)
        elif name in ("BashOutput", "TaskOutput"):
            self._background_output(call, event)
        elif name == "ExitPlanMode" and not event.is_error:
            plan = call.input.get("plan") or event.details.get("plan")
            if isinstance(plan, str) and plan.strip():
                self.plans.append(plan[:4000])
                candidate = dec.candidate_from_plan(plan, self.order)
                if candidate:
                    self.candidates.append(candidate)
        elif name == "AskUserQuestion" and not event.is_error:
            answers = event.details.get("answers") or dec.parse_answers(event.content)
            questions = call.input.get("questions")
            if isinstance(questions, list) and answers:
                notes = event.details.get("notes") or {}
                found = dec.candidates_from_answers(questions, answers, self.order, notes)
                self.candidates.extend(found)
        elif name == "TaskCreate" and not event.is_error:
            self._task_create(call, event)
        elif name == "TaskUpdate" and not event.is_error:
            self._task_update(call.input)

    def _refused(self, call: ToolCall, content: str) -> None:
        """A call a tool refused, with what it said: the last error the session met may be
        one."""
        said = squash(_REFUSAL_TAGS.sub(" ", content))
        if not said or said.startswith(_ECHOED_ERROR):
            return
        path = call.input.get("file_path") or call.input.get("path")
        entry = (call.name, path if isinstance(path, str) else None, shorten(said, 200))
        if entry in self.tool_errors:
            self.tool_errors.remove(entry)
        self.tool_errors.append(entry)
        del self.tool_errors[:-TOOL_ERRORS]

    def _file(self, path: str) -> FileRecord:
        record = self.files.get(path)
        if record is None:
            record = self.files[path] = FileRecord(path, order=self.order)
        return record

    def _edit(self, call: ToolCall, event: ToolResult) -> None:
        path = call.input.get("file_path") or call.input.get("notebook_path")
        path = path if isinstance(path, str) else event.details.get("filePath")
        if not isinstance(path, str) or not path or event.is_error:
            return
        record = self._file(path)
        first_touch = record.edits == 0 and record.reads == 0
        record.edits += 1
        record.edited = self.order
        if call.name == "Write":
            said_created = first_touch and event.content.startswith("File created successfully")
            record.created |= event.details.get("type") == "create" or said_created
        collect_call_signals(self.signals, call.name, call.input, event.content)
        if _MARKDOWN_FILE.search(path):
            self._plan_edit(path, call)
        if snip.is_config_path(path):
            text = call.input.get("content") or call.input.get("new_string") or ""
            lines = snip.config_lines(text) if isinstance(text, str) else []
            if lines:
                self.config.pop(path, None)
                self.config[path] = lines

    def _plan_edit(self, path: str, call: ToolCall) -> None:
        """The "Next:" lines of a markdown file after this write or edit of it."""
        edits = call.input.get("edits") if call.name == "MultiEdit" else [call.input]
        planned = [] if call.name == "Write" else list(self.planned.get(path, []))
        for edit in edits if isinstance(edits, list) else []:
            old, new = (
                edit.get(k) if isinstance(edit, dict) else None
                for k in ("old_string", "new_string")
            )
            gone = next_steps.planned_in(old) if isinstance(old, str) else []
            planned = [line for line in planned if line not in gone]
            text = edit.get("content") if call.name == "Write" else new
            planned += next_steps.planned_in(text) if isinstance(text, str) else []
        self._plan(path, planned)

    def _plan(self, path: str, planned: list[str]) -> None:
        self.planned.pop(path, None)
        if planned:
            self.planned[path] = planned  # the last touched last

    def _move(self, source: str, target: str) -> None:
        """A file (or a folder's files) moved: its record goes under the new path."""
        source, target = absolute(source, self.cwd), absolute(target, self.cwd)
        for path in list(self.files):
            if path == source or path.startswith(source + "/"):
                record = self.files.pop(path)
                record.path = target + path[len(source) :]
                self.files[record.path] = record

    def _read(self, call: ToolCall, event: ToolResult) -> None:
        path = call.input.get("file_path")
        if isinstance(path, str) and path and not event.is_error:
            self._file(path).reads += 1
            planned = next_steps.planned_in(event.content) if _MARKDOWN_FILE.search(path) else []
            whole = not (call.input.get("offset") or call.input.get("limit"))
            if planned or (whole and path in self.planned):  # a part read may not show them
                self._plan(path, planned)
            collect_call_signals(self.signals, "Read", call.input, event.content[:4000])

    def _bash(self, call: ToolCall, event: ToolResult) -> None:
        command = call.input.get("command")
        if not isinstance(command, str):
            return
        writes, command = cmd.file_writes(command)
        for path, content in writes:  # a file written with a here-document: an edit
            self._edit(write_call(call.id, absolute(path, self.cwd), content), event)
        key = cmd.command_key(command)
        if not key:
            return
        if not event.is_error:
            for source, target in cmd.moves_in(command):
                self._move(source, target)
            # a branch the session switched to ("Switched to a new branch 'fix/x'"), where
            # the client does not say it (Codex names the branch a session started on)
            self.branch = cmd.branch_switched(event.content) or self.branch
            if added := cmd.worktree_added(command, event.content):
                path, branch = added
                self.worktrees[posixpath.normpath(absolute(path, self.cwd))] = branch
        self.signals.commands.append(key[:500])
        if "commit" in key:
            for branch, sha, subject in cmd.commits_in(event.content, key, not event.is_error):
                self.branch = branch or self.branch
                self.committed = self.order
                entry = f"{sha} {subject}".strip()
                if all(not c.startswith(sha or entry) for c in self.commits):
                    self.commits.append(entry)
                    self.signals.texts.append(subject)
        self._pull_requests(event.content)
        if snip.is_config_command(key):
            self.config[f"$ {key}"] = [key]
        if cmd.is_exploration(key):
            return
        background = cmd.background_id(event.content) or event.details.get("backgroundTaskId")
        if background and not event.is_error:
            self.background[str(background)] = key
            self._record(key, cmd.display(key), cmd.Outcome("unknown"), event.sidechain)
            return
        outcome = cmd.classify(key, event.content, event.is_error)
        self._record(key, cmd.display(key), outcome, event.sidechain)

    def _pull_requests(self, text: str) -> None:
        """The pull requests ``text`` names (a command's output, a request) become the last
        named."""
        for link in cmd.pull_requests_in(text):
            if link in self.pull_requests:
                self.pull_requests.remove(link)
            self.pull_requests.append(link)
        del self.pull_requests[:-MAX_PULL_REQUESTS]

    def _background_output(self, call: ToolCall, event: ToolResult) -> None:
        task_id = (
            call.input.get("task_id") or call.input.get("bash_id") or call.input.get("shell_id")
        )
        key = self.background.get(str(task_id)) if task_id else None
        if key is None or event.is_error:
            return
        code = cmd.exit_code(event.content)
        done = code is not None or re.search(r"<status>(completed|failed)</status>", event.content)
        if not done:
            return
        record = self.commands.get(key)
        if record is None:
            return
        outcome = cmd.classify(key, event.content, code not in (None, 0))
        self._record(key, record.display, outcome, record.sidechain, rerun=False)
        del self.background[str(task_id)]

    def _record(
        self, key: str, shown: str, outcome: cmd.Outcome, sidechain: bool, rerun: bool = True
    ) -> None:
        record = self.commands.get(key)
        if record is None:
            if len(self.commands) >= MAX_COMMANDS:
                return
            record = self.commands[key] = CommandRecord(
                key, shown, cmd.command_family(key), self.order, sidechain
            )
        if rerun:
            record.runs += 1
        record.last = self.order
        record.display = shown
        if outcome.outcome in ("failed", "tests-failed"):
            record.outcome = outcome.outcome
            record.error = record.error or outcome.error
            record.failed = True
            record.resolved = False
            if key not in self.open_failures:
                self.open_failures[key] = Failure(
                    key, record.family, shown, outcome.error or outcome.outcome
                )
        elif outcome.outcome in ("ok", "tests-passed"):
            record.outcome = outcome.outcome
            record.tests = outcome.tests or record.tests
            self._resolve(record)
        elif record.runs <= 1:
            record.outcome = "unknown"

    def _resolve(self, success: CommandRecord) -> None:
        for key, failure in list(self.open_failures.items()):
            if not _resolves(success, failure):
                continue
            del self.open_failures[key]
            failed = self.commands.get(key)
            if failed is not None:
                failed.resolved = True
            self.signals.failures_resolved += 1
        if success.failed:
            success.resolved = True

    def _task_create(self, call: ToolCall, event: ToolResult) -> None:
        subject = call.input.get("subject") or call.input.get("description")
        if not isinstance(subject, str):
            return
        task = event.details.get("task") or {}
        match = _TASK_ID.search(event.content)
        task_id = str(task.get("id") or (match.group(1) if match else len(self.tasks) + 1))
        self.tasks[task_id] = Todo(squash(subject), "pending")

    def _task_update(self, tool_input: dict[str, Any]) -> None:
        task_id = str(tool_input.get("taskId") or tool_input.get("id") or "")
        status = tool_input.get("status")
        if task_id not in self.tasks:
            subject = tool_input.get("subject")
            if not isinstance(subject, str):
                return
            self.tasks[task_id] = Todo(squash(subject))
        if status == "deleted":
            del self.tasks[task_id]
        elif isinstance(status, str):
            self.tasks[task_id].status = status
        if isinstance(tool_input.get("subject"), str) and task_id in self.tasks:
            self.tasks[task_id].content = squash(tool_input["subject"])


def _resolves(success: CommandRecord, failure: Failure) -> bool:
    """True when a successful run stands for a later, working run of a failed command."""
    if success.key == failure.key:
        return True
    if failure.family not in cmd.command_families(success.key):
        return False
    if not cmd.is_test_command(success.key):
        return True
    failed_args = set(failure.key.split()) - set(failure.family.split())
    success_args = set(success.key.split()) - set(success.family.split())
    return not success_args or failed_args <= success_args
