"""Shell commands from Bash tool calls: what they were for and how they ended.

Recognises test-runner summaries (pytest, jest, vitest, go test, cargo test, ExUnit, rspec,
unittest), non-zero exits, and ``git commit`` output (branch, short SHA, subject).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from contextrecall.compression.text import shorten, squash
from contextrecall.tagging import TEST_COMMAND, from_program
from contextrecall.transcript.events import WINDOWS_ABSOLUTE, WINDOWS_PATH_IN_TEXT, posix_path

_EXPLORATION_TEXT = """
ls cat head tail grep rg ag find fd tree pwd echo wc which whereis file stat less more du
df env printenv type whoami date sleep true false cd realpath basename dirname sort uniq
cut diff cmp lsof ps top id uname hostname nl jq column xxd od hexdump
"""
EXPLORATION = frozenset(_EXPLORATION_TEXT.split())
_GIT_TRIVIAL = re.compile(
    r"^git (status|diff|log|show|branch|add|rev-parse|remote -v|stash list)\b"
)
# Runs that only print: ``sed`` without ``-i`` (it writes to its output, never the file), a
# program asked for its version or help.
_ONLY_PRINTS = re.compile(r"sed(?!.*\s(?:-\w*i|--in-place))\s|\S+\s+(?:--version|--help)$")
_CD = r"cd\s+(\"[^\"]*\"|'[^']*'|\S+)"  # a ``cd`` and the folder it goes to
_CD_PREFIX = re.compile(rf"^(?:{_CD}\s*(?:&&|;)\s*)+")
# Output filters at the end of a command line; a filter's arguments end where the chain goes
# on (``dotnet build | tail -4 && dotnet pack …`` keeps its pack).
_NOISE_SUFFIX = re.compile(
    r"(?:\s*2>&1|\s*\|\s*(?:tail|head|grep|rg|less|cat|tee|sort|uniq|wc)\b"
    r"(?:\"[^\"]*\"|'[^']*'|[^|\"'&;])*)+\s*$"
)
_READ_ONLY_VERBS = frozenset(
    ["show", "list", "ls", "status", "log", "info", "view", "get", "describe", "inspect", "ps"]
)
_CHAIN = re.compile(r"\s*(?:&&|\|\||;)\s*")
_REDIRECT = re.compile(r"\s*(?:2>&1|\d?>\s*/dev/null)")
_HEREDOC = re.compile(r"\$\(cat <<'?\"?(\w+)'?\"?\s*\n(.*?)\n\s*\1\s*\)", re.S)
_EXIT_CODE = re.compile(r"^Exit code (\d+)", re.M)
_TAG_EXIT_CODE = re.compile(r"<exit_code>(\d+)</exit_code>")
# A non-zero exit the runner reports on a line of its own (pnpm, npm, yarn, go, make,
# Python's subprocess): what a filter the command was piped into (``| tail -15``) hid from the
# tool's own exit code. Only the runner's line: a test's log may quote another process's exit.
_REPORTED_EXIT = re.compile(
    r"^\s*(?:npm ERR!|npm error|error|\W*ELIFECYCLE\W*)?\s*(?:command failed with )?"
    r"(?:exit status|exited with code|exit code)\s*:?\s*[1-9]\d*\.?\s*$"
    r"|^make(?:\[\d+\])?: \*\*\* \[[^\]\n]*\] Error [1-9]"
    r"|^(?:subprocess\.)?CalledProcessError: .* returned non-zero exit status [1-9]"
    # a compiler's or build tool's diagnostic (MSBuild, NuGet, tsc: "error CS0518:"), which
    # a pipe into ``tail`` or ``grep`` leaves without its exit code
    r"|\berror [A-Z]{2,5}\d{3,5}\s*:"
    # rustc's, clippy's and cargo's: "error[E0425]: …", "error: …" pointing at its source
    # ("  --> src/x.rs:3:9"), "error: could not compile `hk`" (a bare "error: …" line is any
    # program's log, a passing test suite's among them)
    r"|^error\[E\d{4}\]: |^error: [^\n]*\n\s*--> |^error: (?:could not compile|aborting due to)",
    re.I | re.M,
)
_BACKGROUND = re.compile(r"running in background with ID: ([\w-]+)")
_COMMIT = re.compile(
    r"^\[(?P<branch>[^\]\s]+)(?: \(root-commit\))? (?P<sha>[0-9a-f]{7,40})\] (?P<subject>.+)$",
    re.M,
)
_ONELINE = re.compile(r"^(?P<sha>[0-9a-f]{7,12}) (?P<subject>\S.*)$", re.M)  # git log --oneline
_COMMIT_MESSAGE = re.compile(r"\bgit\s+commit\b[^;&|]*?\s-[a-z]*m\s*(?:\"([^\"]+)\"|'([^']+)')")
ERROR_LINE = re.compile(
    r"(error|fatal|failed|failure|exception|traceback|cannot|can't|could not|no such|"
    r"not found|denied|undefined|invalid|refused|timed? ?out|panic)",
    re.I,
)
_SPECIFIC_ERROR = re.compile(
    r"(\b\w+(?:Error|Exception)\b|\b(?:error|fatal|panic)(?:\[\w+\])?:|\bE\d{3,}\b|FAILED|"
    r"No such file|not found|denied|undefined \w+)"
)
_NOISE_LINE = re.compile(r"^(npm warn|warning:|\s*│|\s*$|Exit code \d+)", re.I)

# A test runner's summary line: pytest, jest, vitest, cargo, ExUnit, rspec.
_TEST_SUMMARY_LINE = re.compile(
    r"^(?:=+ )?(?:\d+ [a-z]+(?:, )?)+ in [\d.]+m?s\b"
    r"|^Tests:\s+.*\d+ total"
    r"|^\s*Tests\s+.*\(\d+\)"
    r"|^test result: "
    r"|\d+ tests?, \d+ failures?"
    r"|\d+ examples?, \d+ failures?",
    re.M,
)
_FAILURES = re.compile(r"(\d+) (?:failed|failures?|errors?)\b")
_PASSES = re.compile(r"(\d+) passed\b")
_TOTAL = re.compile(r"(\d+) (?:tests?|examples?)\b")
_GO_FAIL = re.compile(r"^(?:--- FAIL|FAIL\s)", re.M)
_GO_PACKAGE = re.compile(r"^(ok|FAIL)[ \t]+(\S+)[ \t]+(\S+)", re.M)  # ok  <package>  <time>
GO_PACKAGES_NAMED = 6
# VSTest's summary (``dotnet test``), one line a target framework, in the language of the
# machine but always in this order: "Failed!  - Failed: 0, Passed: 41, Skipped: 0, Total: 41".
_VSTEST = re.compile(
    r"^\s*\w+!\s+-\s+[^\W\d]+:\s*(\d+),\s+[^\W\d]+:\s*(\d+),\s+[^\W\d]+:\s*\d+,"
    r"\s+[^\W\d]+:\s*\d+.*$",
    re.M,
)
_BUN = re.compile(r"^\s*(\d+) pass\s*\n\s*(\d+) fail\s*$", re.M)  # bun test: " 12 pass" / " 0 fail"
_UNITTEST = re.compile(r"^Ran (\d+) tests? in .*?\n\s*\n?(OK|FAILED)", re.M | re.S)
_PURPOSES = (
    ("test", TEST_COMMAND),
    (
        "lint",
        re.compile(
            r"\b(lint|eslint|ruff check|flake8|pylint|mypy|credo|dialyzer|clippy|vet|"
            r"tsc --noEmit)\b"
        ),
    ),
    ("format", re.compile(r"\b(format|fmt|prettier|black|ruff format)\b")),
    ("migrate", re.compile(r"\b(migrat\w*|alembic|ash\.codegen|db:\w+)\b")),
    (
        "install",
        re.compile(
            r"^(npm|pnpm|yarn|bun|pip3?|uv|poetry|cargo|go|mix|bundle|gem|composer|"
            r"brew|apt|apt-get) (install|i|ci|deps\.get|sync|add|get)\b|^bundle$"
        ),
    ),
    ("scaffold", re.compile(r"\b(create-[\w.@-]+|init|new|startproject|phx\.new)\b")),
    ("build", re.compile(r"\b(build|compile|make|tsc|webpack)\b")),
    (
        "deploy",
        re.compile(r"\b(deploy|kubectl apply|helm (install|upgrade)|docker push|publish)\b"),
    ),
    ("run", re.compile(r"\b(run|serve|phx\.server|runserver|start|dev|up)\b")),
)


@dataclass
class Outcome:
    """How one command run ended."""

    outcome: str  # "ok", "failed", "tests-passed", "tests-failed", "unknown"
    error: str | None = None
    tests: str | None = None  # the test summary line, when there is one


def _commit_subject(match: re.Match[str]) -> str:
    return next((line.strip() for line in match.group(2).splitlines() if line.strip()), "")


def display(command: str, limit: int = 160) -> str:
    """A one-line form of ``command``: commit messages shown by subject, long lines cut."""
    command = _HEREDOC.sub(_commit_subject, command).strip()
    first_line = command.splitlines()[0] if command else ""
    more = " …" if "\n" in command else ""
    return shorten(first_line, limit - len(more)) + more


_MOVE = re.compile(r"(?:^|&&|;|\|\|)\s*(?:git\s+)?mv\s+(?:-\w+\s+)*(\S+)\s+(\S+)\s*(?=$|&&|;|\|\|)")


def moves_in(command: str) -> list[tuple[str, str]]:
    """(source, target) of each ``mv`` / ``git mv`` of one source in ``command``, on any of
    its lines, from the folder it runs in (``in_folder``)."""
    return [
        (in_folder(a, command), in_folder(b, command)) for a, b in _MOVE.findall(one_line(command))
    ]


def in_folder(path: str, command: str) -> str:
    """``path`` as ``command`` names it (its variables put in, ``expanded``), from the folder
    the command's leading ``cd``s go to (``cd app && git mv a b``: ``app/a``)."""
    path = expanded(path.strip("'\""), command)
    went = _CD_PREFIX.match(one_line(command))
    if went is None or _rooted(path):
        return path
    folder = ""
    for step in re.findall(_CD, went.group(0)):
        step = posix_path(expanded(step.strip("'\""), command))
        if step == "-":  # back to wherever it was before: not known here
            return path
        folder = step if _rooted(step) else posixpath.join(folder, step)
    return posixpath.normpath(posixpath.join(folder, posix_path(path)))


def _rooted(path: str) -> bool:
    return path.startswith(("/", "~")) or bool(WINDOWS_ABSOLUTE.match(path))


# A variable a script sets to a literal (``TARGET="docs/archive/x"``), and one it reads.
_ASSIGNED = re.compile(
    r"""(?:^|[;&|\n(]\s*|\bexport\s+)([A-Za-z_]\w*)=("[^"$`\\]*"|'[^']*'|[^\s;&|$`'"()]+)"""
)
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")


def expanded(path: str, command: str) -> str:
    """``path`` with the variables ``command`` set to a literal put in, as the shell does
    (``git mv a "$TARGET"`` after ``TARGET="docs/archive/a"``); others are left as written."""
    if "$" not in path:
        return path
    values = {name: value.strip("'\"") for name, value in _ASSIGNED.findall(command)}
    return _VARIABLE.sub(lambda m: values.get(m[1] or m[2], m[0]), path)


# ``cat > path <<'EOF'`` (or ``cat <<EOF > path``, ``tee path <<EOF``) up to its end marker.
_FILE_WRITE = re.compile(
    r"(?:^|(?<=&&)|(?<=;))[ \t]*(?:cat|tee)[ \t]+(?:"
    r"(?:>[ \t]*)?(?P<path>[^\s<>|&;]+)[ \t]*<<-?[ \t]*(?P<q>['\"]?)(?P<tag>\w+)(?P=q)"
    r"|<<-?[ \t]*(?P<q2>['\"]?)(?P<tag2>\w+)(?P=q2)[ \t]*>[ \t]*(?P<path2>[^\s<>|&;]+)"
    r")[ \t]*\n(?P<body>.*?)\n[ \t]*(?:(?P=tag)|(?P=tag2))[ \t]*$",
    re.S | re.M,
)


def file_writes(command: str) -> tuple[list[tuple[str, str]], str]:
    """The files a command writes with a here-document (``cat > path <<'EOF'``): (path,
    content) of each, and the command without them (empty when it did nothing else)."""
    writes = [
        (in_folder(m["path"] or m["path2"], command), m["body"])
        for m in _FILE_WRITE.finditer(command)
    ]
    rest = _FILE_WRITE.sub("", command) if writes else command
    rest = re.sub(r"(?:&&|;)\s*(?:&&|;)", "&&", rest)
    rest = re.sub(r"^\s*(?:&&|;)\s*|\s*(?:&&|;)\s*$", "", rest.strip())
    return writes, rest


# A script line that does not end its command: the next line goes on with it.
_GOES_ON = re.compile(r"(?:\||&&|\|\||\b(?:do|then|else|in)|[{(])\s*$")
_CONTINUED = re.compile(r"\\\n")  # a line continued on the next
_HEREDOC_START = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def one_line(command: str) -> str:
    """A script of several lines as one line, its lines joined by ``;`` as the shell runs
    them (``cd app`` / ``git switch -c dev`` / ``git push``), so each line stays a command
    of its own; a line that goes on (``\\``, ``|``, ``&&``, ``do``), a quoted newline (a
    commit message) and a here-document's lines are joined by a space. Comment lines go."""
    if "\n" not in command:
        return command
    command = _CONTINUED.sub(" ", command)
    out: list[str] = []
    quote = ""  # the quote a newline is inside of, if any
    heredoc = ""  # the end marker of the here-document being read, if any
    for line in command.split("\n"):
        if heredoc:
            out.append(" " + line)
            heredoc = "" if line.strip() == heredoc else heredoc
            continue
        if not quote and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if out:
            out.append(" " if quote or _GOES_ON.search(out[-1]) else "; ")
        out.append(line)
        quote = _open_quote(line, quote)
        if not quote and (started := _HEREDOC_START.search(line)):
            heredoc = started.group(2)
    return "".join(out).strip()


def _open_quote(line: str, quote: str) -> str:
    """The quote still open at the end of ``line``, given the one open at its start."""
    escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
    return quote


def command_key(command: str) -> str:
    """The command without a leading ``cd``, ``2>&1`` and trailing output filters; a script's
    lines joined as one line (``one_line``)."""
    text = squash(one_line(_HEREDOC.sub(_commit_subject, command)))
    text = _CD_PREFIX.sub("", text)
    text = _NOISE_SUFFIX.sub("", text)
    return _REDIRECT.sub("", text).strip()


def command_family(key: str) -> str:
    """Program and subcommand (``git push``, ``npm run build``, ``mix test``), whatever
    variables the command line sets before the program (``from_program``)."""
    words = from_program(key.split())
    if not words:
        return ""
    program = words[0].rsplit("/", 1)[-1]
    # ``-C <dir>`` runs in another folder (git, make, tar): the folder is not a subcommand
    given = [w for n, w in enumerate(words[1:]) if not (n and words[n] == "-C")]
    rest = [w for w in given if not w.startswith("-")]
    if program in ("npm", "yarn", "pnpm", "bun") and rest[:1] == ["run"]:
        return " ".join([program, *rest[:2]])
    if program in ("python", "python3") and words[1:2] == ["-m"]:
        return " ".join(words[:3])
    if program in ("npx", "uv", "poetry", "bundle") and rest[:1] in (["run"], ["exec"]):
        return " ".join([program, *rest[:2]])
    return " ".join([program, *rest[:1]]) if rest else program


def command_families(key: str) -> set[str]:
    """The family of each command of a ``&&`` / ``;`` chain."""
    return {command_family(part) for part in _CHAIN.split(key) if part.strip()}


def is_exploration(key: str) -> bool:
    """True for commands that only look around (ls, cat, grep, git status …)."""
    for part in _CHAIN.split(key):
        words = part.split()
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        looks = program in EXPLORATION or program == "mkdir" or _GIT_TRIVIAL.match(part)
        if not looks and not _ONLY_PRINTS.match(part.strip()):
            return False
    return True


# What ``is_exploration`` lets by that changes things.
_CHANGES = re.compile(r"^(?:git add|mkdir)\b")


def only_looks(key: str) -> bool:
    """True for commands that change nothing: they look around (``ls``, ``git diff``) or show
    things (``kubectl get``)."""
    if is_read_only(key):
        return True
    return is_exploration(key) and not any(_CHANGES.match(p) for p in _CHAIN.split(key))


_LISTING = frozenset(["ls", "find", "fd", "tree", "pwd", "echo", "wc"])


def is_listing(key: str) -> bool:
    """True for commands that only list files (``ls``, ``find``, ``tree``): like the Glob
    and LS tools, what they found is better told by the files read and edited next."""
    parts = [part.split() for part in _CHAIN.split(key) if part.strip()]
    return bool(parts) and all(p[0].rsplit("/", 1)[-1] in _LISTING for p in parts)


def is_read_only(key: str) -> bool:
    """True for subcommands that only show things (``bd show``, ``kubectl get`` …)."""
    words = key.split()
    return len(words) > 1 and words[1] in _READ_ONLY_VERBS


def is_test_command(key: str) -> bool:
    return bool(TEST_COMMAND.search(key))


def purpose(key: str) -> str:
    """What a command is for: test, lint, format, migrate, install, build, deploy, run, other."""
    first = _CHAIN.split(key)[0].split()
    words = [w for w in first if not w.startswith(("-", "+")) and "/" not in w][:3]
    if "tsc" in words and "--noEmit" in first:
        words.append("--noEmit")
    text = " ".join(words)
    for name, pattern in _PURPOSES:
        if pattern.search(text):
            return name
    return "other"


def test_summary(output: str) -> tuple[int, int, str] | None:
    """(failures, passes, summary line) of a test runner's output, if it printed one."""
    matches = list(_TEST_SUMMARY_LINE.finditer(output))
    if matches:
        match = matches[-1]
        start = output.rfind("\n", 0, match.start()) + 1
        end = output.find("\n", match.end())
        line = squash(output[start : end if end != -1 else len(output)].strip("= "))
        failures = sum(int(n) for n in _FAILURES.findall(line))
        passed = _PASSES.search(line)
        total = _TOTAL.search(line)
        if passed:
            passes = int(passed.group(1))
        elif total:
            passes = max(int(total.group(1)) - failures, 0)
        else:
            passes = 0
        return failures, passes, line
    vstest = list(_VSTEST.finditer(output))
    if vstest:
        failures = sum(int(m.group(1)) for m in vstest)
        shown = next((m for m in vstest if int(m.group(1))), vstest[-1])  # a failing one
        return failures, sum(int(m.group(2)) for m in vstest), squash(shown.group(0))
    bun = list(_BUN.finditer(output))
    if bun:
        passes, failures = int(bun[-1].group(1)), int(bun[-1].group(2))
        return failures, passes, f"{passes} pass, {failures} fail"
    unittest = _UNITTEST.search(output)
    if unittest:
        failed = 0 if unittest.group(2) == "OK" else 1
        return failed, int(unittest.group(1)), f"Ran {unittest.group(1)} tests: {unittest.group(2)}"
    packages = _GO_PACKAGE.findall(output)
    failed = bool(_GO_FAIL.search(output))
    return _go_summary(packages, failed) if failed or packages else None


def _go_summary(packages: list[tuple[str, str, str]], failed: bool) -> tuple[int, int, str]:
    """``go test``'s outcome by package: it prints no total, only a line a package. The
    failed ones are named, then those that ran (not cached), below their common path."""
    bad = [p for p in packages if p[0] == "FAIL"]
    good = [p for p in packages if p[0] == "ok"]
    paths = [p[1] for p in packages]
    parent = posixpath.commonpath(paths) if paths else ""
    if parent in paths:  # a package is the common path itself: name it by its last part
        parent = posixpath.dirname(parent)

    def name(package: tuple[str, str, str]) -> str:
        path = package[1][len(parent) :].lstrip("/") if parent else package[1]
        return path if package[0] == "FAIL" or package[2] == "(cached)" else f"{path} {package[2]}"

    ran = [p for p in good if p[2] != "(cached)"]
    cached = len(good) - len(ran)
    named = [name(p) for p in bad + ran][:GO_PACKAGES_NAMED]
    outcome = f"{len(bad)} FAIL, {len(good)} ok" if bad else f"{len(good)} ok"
    outcome = outcome if packages else "FAIL"
    detail = ", ".join(named) + (f"; {cached} cached" if cached else "")
    line = f"go test: {outcome}" + (f" ({detail})" if detail else "")
    return (max(len(bad), 1) if failed or bad else 0), len(good), line


def error_line(output: str, limit: int = 200) -> str | None:
    """The most telling error line of a command's output."""
    # an output escaped whole (one line holding "\\n"); a Windows path's "\\numwordify" is not
    escaped = "\n" not in output.strip() and not WINDOWS_PATH_IN_TEXT.search(output)
    if escaped and "\\n" in output[:500]:
        output = output.replace("\\n", "\n")
    lines = [line.strip() for line in output.splitlines()]
    candidates = [line for line in lines if line and not _NOISE_LINE.match(line)]
    for pattern in (_SPECIFIC_ERROR, ERROR_LINE):
        for line in candidates:
            if pattern.search(line):
                return shorten(line, limit)
    return shorten(candidates[0], limit) if candidates else None


def exit_code(output: str) -> int | None:
    """The exit code the Bash tool or a background task reported, if any."""
    match = _EXIT_CODE.search(output[:200]) or _TAG_EXIT_CODE.search(output)
    return int(match.group(1)) if match else None


def background_id(output: str) -> str | None:
    """The id of a command the tool moved to the background."""
    match = _BACKGROUND.search(output[:300])
    return match.group(1) if match else None


def classify(key: str, output: str, is_error: bool) -> Outcome:
    """The outcome of one run of ``key`` given its output and the tool's error flag."""
    code = exit_code(output)
    failed = is_error or (code is not None and code != 0) or bool(_REPORTED_EXIT.search(output))
    summary = test_summary(output) if is_test_command(key) or failed else None
    if summary is not None and is_test_command(key):
        failures, _passes, line = summary
        if failures or failed:
            return Outcome("tests-failed", error_line(output) if failures == 0 else line, line)
        return Outcome("tests-passed", None, line)
    if failed:
        return Outcome("tests-failed" if is_test_command(key) else "failed", error_line(output))
    return Outcome("ok")


# A pull or merge request's page: GitHub's and Bitbucket's, GitLab's (``/-/merge_requests/``).
_PULL_REQUEST = re.compile(
    r"https?://[^\s\"'<>()\[\]`]+?/(?:pull|pull-requests|-/merge_requests)/\d+\b"
)


def pull_requests_in(text: str) -> list[str]:
    """The pull or merge request links ``text`` holds, in order."""
    return _PULL_REQUEST.findall(text)


def commits_in(output: str, command: str = "", ran: bool = False) -> list[tuple[str, str, str]]:
    """(branch, short sha, subject) of each commit ``git commit`` reported; a quiet one
    (``git commit -q … && git log --oneline -1``) by the first entry of the log after it; one
    that ``ran`` (exit 0) and printed no such line (``-q``, or a proxy that shortens output:
    ``ok ✓``) by the message it was given, its sha unknown."""
    found = [(m["branch"], m["sha"], m["subject"].strip()) for m in _COMMIT.finditer(output)]
    quiet = not found and re.search(r"\bgit commit\b.*\bgit log\b", command, re.S)
    if quiet and (logged := _ONELINE.search(output)):
        found = [("", logged["sha"], logged["subject"].strip())]
    if not found and ran and (given := _COMMIT_MESSAGE.search(command)):
        found = [("", "", (given[1] or given[2]).strip())]
    return found


_SWITCHED = re.compile(r"^Switched to (?:a new )?branch '([^'\n]+)'", re.M)


def branch_switched(output: str) -> str | None:
    """The branch ``git switch`` or ``git checkout`` said it switched to last, if any."""
    found = _SWITCHED.findall(output)
    return found[-1] if found else None


# ``git worktree add [-b <branch>] [--detach …] <path> [<commit>]``, and what it printed.
_WORKTREE_ADD = re.compile(
    r"\bgit\s+(?:-C\s+\S+\s+)?worktree\s+add\s+(?:(?:-[bB]\s+\S+|--?[\w-]+)\s+)*([^\s;&|]+)"
)
_WORKTREE_BRANCH = re.compile(
    r"Preparing worktree \((?:new branch|checking out|resetting branch) '([^'\n]+)'\)"
)


def worktree_added(command: str, output: str) -> tuple[str, str] | None:
    """(path, branch) of the git worktree ``command`` added, as its output names the branch
    (``Preparing worktree (new branch 'feat/x')``); None for any other command."""
    line = one_line(command)
    path = _WORKTREE_ADD.search(line)
    branch = _WORKTREE_BRANCH.search(output)
    if path is None or branch is None:
        return None
    return in_folder(path.group(1), command), branch.group(1)
