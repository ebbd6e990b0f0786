"""Deterministic tags for a session: languages, frameworks, tools and activities.

Tags come from signals a session leaves behind (file paths, code it wrote or read, shell
commands, what was asked and committed), never from a model. ``tags_for`` is a pure function
of ``TagSignals``; ``tags_for_events`` builds the signals from parsed transcript events.
Tags are lowercase, deduplicated and sorted.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".rb": "ruby",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".php": "php",
    ".ex": "elixir",
    ".exs": "elixir",
    ".heex": "elixir",
    ".erl": "erlang",
    ".scala": "scala",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".sql": "sql",
    ".html": "html",
    ".css": "css",
    ".scss": "css",
    ".vue": "vue",
    ".svelte": "svelte",
    ".dart": "dart",
    ".lua": "lua",
    ".r": "r",
    ".jl": "julia",
    ".zig": "zig",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".tf": "terraform",
    ".proto": "protobuf",
}

# Manifest and configuration file names, matched on the lowercased base name.
MANIFESTS = {
    "package.json": ("javascript", "npm"),
    "package-lock.json": ("npm",),
    "yarn.lock": ("yarn",),
    "pnpm-lock.yaml": ("pnpm",),
    "bun.lockb": ("bun",),
    "tsconfig.json": ("typescript",),
    "pyproject.toml": ("python",),
    "setup.py": ("python",),
    "setup.cfg": ("python",),
    "pipfile": ("python", "pipenv"),
    "poetry.lock": ("poetry",),
    "uv.lock": ("uv",),
    "cargo.toml": ("rust", "cargo"),
    "go.mod": ("go",),
    "gemfile": ("ruby", "bundler"),
    "pom.xml": ("java", "maven"),
    "build.gradle": ("gradle",),
    "build.gradle.kts": ("gradle", "kotlin"),
    "docker-compose.yml": ("docker", "docker-compose"),
    "docker-compose.yaml": ("docker", "docker-compose"),
    "compose.yml": ("docker", "docker-compose"),
    "compose.yaml": ("docker", "docker-compose"),
    "dockerfile": ("docker",),
    "mix.exs": ("elixir", "mix"),
    "alembic.ini": ("alembic",),
    "makefile": ("make",),
    "conftest.py": ("pytest",),
    "pytest.ini": ("pytest",),
    "tox.ini": ("tox",),
    "ruff.toml": ("ruff",),
    ".gitlab-ci.yml": ("gitlab-ci",),
    "kustomization.yaml": ("kubernetes",),
    "chart.yaml": ("helm", "kubernetes"),
    "celeryconfig.py": ("celery",),
}
MANIFEST_PREFIXES = {
    "requirements": ("python", "pip"),
    "next.config.": ("nextjs",),
    "tailwind.config.": ("tailwind",),
    "vite.config.": ("vite",),
    "vitest.config.": ("vitest",),
    "jest.config.": ("jest",),
    "eslint.config.": ("eslint",),
    ".eslintrc": ("eslint",),
    ".prettierrc": ("prettier",),
    "dockerfile.": ("docker",),
}

# Import or dependency names that mean a well-known framework or library, and their tag.
LIBRARIES = {
    "next": "nextjs",
    "react": "react",
    "react-dom": "react",
    "vue": "vue",
    "nuxt": "nuxt",
    "svelte": "svelte",
    "@sveltejs": "svelte",
    "@angular": "angular",
    "express": "express",
    "fastify": "fastify",
    "@nestjs": "nestjs",
    "prisma": "prisma",
    "@prisma": "prisma",
    "tailwindcss": "tailwind",
    "jest": "jest",
    "vitest": "vitest",
    "@testing-library": "testing-library",
    "typescript": "typescript",
    "django": "django",
    "flask": "flask",
    "fastapi": "fastapi",
    "starlette": "starlette",
    "sqlalchemy": "sqlalchemy",
    "alembic": "alembic",
    "celery": "celery",
    "pydantic": "pydantic",
    "pytest": "pytest",
    "numpy": "numpy",
    "pandas": "pandas",
    "torch": "pytorch",
    "tensorflow": "tensorflow",
    "sklearn": "scikit-learn",
    "scikit-learn": "scikit-learn",
    "requests": "requests",
    "httpx": "httpx",
    "redis": "redis",
    "pymysql": "mysql",
    "psycopg": "postgresql",
    "psycopg2": "postgresql",
    "click": "click",
    "typer": "typer",
    "boto3": "aws",
    "kombu": "celery",
    "flower": "flower",
    "tokio": "tokio",
    "serde": "serde",
    "axum": "axum",
    "actix-web": "actix",
    "gin-gonic": "gin",
    "rails": "rails",
    "rspec": "rspec",
    "phoenix": "phoenix",
    "phoenix_live_view": "phoenix",
    "phoenix_html": "phoenix",
    "ecto": "ecto",
    "ecto_sql": "ecto",
    "ash": "ash",
    "oban": "oban",
    "credo": "credo",
    "dialyxir": "dialyzer",
}
ELIXIR_MODULES = {
    "Phoenix": "phoenix",
    "Ecto": "ecto",
    "Ash": "ash",
    "AshPhoenix": "ash",
    "Oban": "oban",
    "Plug": "plug",
    "ExUnit": "exunit",
    "Absinthe": "absinthe",
}
PYTHON_ALIASES = {
    "sklearn": "scikit-learn",
    "bs4": "beautifulsoup",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "cv2": "opencv",
    "dateutil": "python-dateutil",
    "torch": "pytorch",
    "psycopg2": "postgresql",
    "pymysql": "mysql",
}
_NODE_BUILTIN_TEXT = """
assert buffer child_process cluster crypto dgram dns events fs http http2 https net os
path perf_hooks process querystring readline stream string_decoder timers tls tty url util
v8 vm worker_threads zlib
"""
NODE_BUILTINS = frozenset(_NODE_BUILTIN_TEXT.split())
COMMANDS = {
    "pytest": ("pytest", "python"),
    "py.test": ("pytest", "python"),
    "python": ("python",),
    "python3": ("python",),
    "pip": ("pip", "python"),
    "pip3": ("pip", "python"),
    "uv": ("uv", "python"),
    "poetry": ("poetry", "python"),
    "ruff": ("ruff",),
    "black": ("black",),
    "mypy": ("mypy",),
    "flake8": ("flake8",),
    "pylint": ("pylint",),
    "tox": ("tox",),
    "alembic": ("alembic",),
    "celery": ("celery",),
    "flower": ("flower",),
    "npm": ("npm",),
    "npx": ("npm",),
    "yarn": ("yarn",),
    "pnpm": ("pnpm",),
    "bun": ("bun",),
    "node": ("node",),
    "tsc": ("typescript",),
    "jest": ("jest",),
    "vitest": ("vitest",),
    "eslint": ("eslint",),
    "prettier": ("prettier",),
    "cargo": ("cargo", "rust"),
    "rustc": ("rust",),
    "go": ("go",),
    "docker": ("docker",),
    "docker-compose": ("docker", "docker-compose"),
    "kubectl": ("kubernetes", "kubectl"),
    "helm": ("helm", "kubernetes"),
    "terraform": ("terraform",),
    "git": ("git",),
    "gh": ("github",),
    "make": ("make",),
    "mix": ("mix", "elixir"),
    "iex": ("elixir",),
    "elixir": ("elixir",),
    "bundle": ("bundler", "ruby"),
    "rake": ("ruby",),
    "rails": ("rails", "ruby"),
    "rspec": ("rspec", "ruby"),
    "gradle": ("gradle",),
    "./gradlew": ("gradle",),
    "mvn": ("maven",),
    "dotnet": ("dotnet",),
    "redis-cli": ("redis",),
    "mysql": ("mysql",),
    "mariadb": ("mariadb",),
    "psql": ("postgresql",),
    "sqlite3": ("sqlite",),
    "aws": ("aws",),
    "gcloud": ("gcp",),
    "az": ("azure",),
}
SUBCOMMANDS = {
    ("mix", "phx."): ("phoenix",),
    ("mix", "ecto."): ("ecto",),
    ("mix", "ash"): ("ash",),
    ("mix", "credo"): ("credo",),
    ("mix", "dialyzer"): ("dialyzer",),
    ("mix", "test"): ("exunit",),
    ("docker", "compose"): ("docker-compose",),
    ("npx", "create-next-app"): ("nextjs",),
    ("npx", "next"): ("nextjs",),
    ("npx", "prisma"): ("prisma",),
    ("npx", "jest"): ("jest",),
    ("npx", "vitest"): ("vitest",),
    ("npx", "tsc"): ("typescript",),
    ("npx", "playwright"): ("playwright",),
    ("python", "-m pytest"): ("pytest",),
    ("python3", "-m pytest"): ("pytest",),
    ("uv", "run pytest"): ("pytest",),
    ("go", "test"): ("go-test",),
    ("cargo", "test"): ("cargo-test",),
}
ACTIVITY_WORDS = {
    "debugging": re.compile(
        r"\b(fix(es|ed|ing)?|bug|debug\w*|crash\w*|broken|error|traceback|fail(s|ing|ed)?|"
        r"doesn'?t (work|start)|not working)\b",
        re.I,
    ),
    "refactoring": re.compile(
        r"\b(refactor\w*|restructur\w*|clean ?up|extract(ed|ing)? (a |the )?\w+|dedup\w*|"
        r"consolidat\w*|simplif\w*|unif(y|ied))\b",
        re.I,
    ),
    "migration": re.compile(r"\b(migrat(e|ion|ions|ing)|schema change|upgrade to)\b", re.I),
    "deployment": re.compile(r"\b(deploy\w*|release|rollout|ship(ping)? to prod\w*)\b", re.I),
    "documentation": re.compile(r"\b(document\w*|docs?|readme|changelog|claude\.md)\b", re.I),
    "testing": re.compile(r"\b(tests?|testing|spec|coverage)\b", re.I),
}
DEPLOY_COMMAND = re.compile(
    r"\b(kubectl (apply|rollout|set image)|helm (install|upgrade)|docker push|terraform apply|"
    r"fly deploy|vercel( --prod)?|heroku|npm publish|cargo publish|twine upload|"
    r"gcloud \S+ deploy|serverless deploy)\b"
)
MIGRATION_COMMAND = re.compile(
    r"\b(alembic (upgrade|revision|downgrade)|ecto\.(migrate|gen\.migration|rollback)|"
    r"db:migrate|manage\.py (make)?migrations?|prisma migrate|ash\.codegen|flask db)\b"
)
# A command that runs tests (a test runner, or a build tool or task runner running its test
# task: ``mise run test:ci``, ``pnpm --filter api test``, ``just test``, ``make test-unit``);
# ``compression.commands`` reads its output for a test summary.
TEST_COMMAND = re.compile(
    r"\b(pytest|py\.test|jest|vitest|rspec|phpunit|ctest|tox|nox|unittest|cargo nextest|"
    r"(?:go|cargo|mix|npm|yarn|pnpm|bun|dotnet|gradlew?|mvn|deno|make|mise|just|task|rake)"
    r"(?: (?:-{1,2}[\w-]+(?:[ =][\w@./-]+)?|run|exec))*? test(?:[:_-][\w:-]+)?)\b"
)
TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]+$|_test\.\w+$|\.(test|spec)\.\w+$"
)
DOC_PATH = re.compile(r"\.(md|rst|adoc)$|(^|/)docs?/|(^|/)readme", re.I)
MIGRATION_PATH = re.compile(r"(^|/)(migrations|alembic/versions|db/migrate)/")

_PY_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.][\w., ]*))", re.M)
_JS_IMPORT = re.compile(
    r"""(?:\bimport\s+(?:[\w*{}\s,$]+\s+from\s+)?|\brequire\s*\(\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]"""
)
_EX_IMPORT = re.compile(r"^\s*(?:use|import|alias|require)\s+([A-Z]\w*)", re.M)
_LINE_NUMBER = re.compile(r"^\s*\d+(?:→|\t)", re.M)
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_COMMAND_SPLIT = re.compile(r"&&|\|\||;|\||\n")
_JS_DEP = re.compile(r'"(@?[\w.-]+(?:/[\w.-]+)?)"\s*:\s*"[\^~>=<*\d]')
_REQUIREMENT = re.compile(r"^\s*([A-Za-z][\w.-]*)", re.M)
_QUOTED_DEP = re.compile(r"""["']([A-Za-z][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;]|["'])""")
_MIX_DEP = re.compile(r"\{:(\w+)\s*,")
_GEM = re.compile(r"""^\s*gem\s+['"]([\w-]+)['"]""", re.M)
_CARGO_DEP = re.compile(r"^\s*([\w-]+)\s*=", re.M)
_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([\w.-]+\.\w+/[\w./-]+)\s+v", re.M)

MAX_IMPORT_TAGS = 15


@dataclass
class TagSignals:
    """What a session touched and ran; the only input tagging needs."""

    paths: set[str] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)
    imports: Counter[str] = field(default_factory=Counter)
    libraries: set[str] = field(default_factory=set)  # already-normalized library tags
    texts: list[str] = field(default_factory=list)  # requests and commit messages
    edited_paths: set[str] = field(default_factory=set)
    failures_resolved: int = 0

    def add_code(self, path: str, code: str) -> None:
        """Record the imports (and, for manifests, dependencies) of code seen at ``path``."""
        name = PurePosixPath(path).name.lower()
        if name in MANIFESTS or any(name.startswith(p) for p in MANIFEST_PREFIXES):
            self.libraries.update(dependencies_in(name, code))
            return
        language = language_for_path(path)
        if language:
            self.imports.update(imports_in(code, language))


def normalize(tag: str) -> str:
    """Lowercase, trimmed, inner spaces as dashes."""
    return re.sub(r"\s+", "-", tag.strip().lower())


def language_for_path(path: str) -> str | None:
    """The programming language a file extension means, if any."""
    return LANGUAGES.get(PurePosixPath(path).suffix.lower())


def manifest_tags(path: str) -> set[str]:
    """Tags a manifest or tool configuration file implies by its name."""
    name = PurePosixPath(path).name.lower()
    tags = set(MANIFESTS.get(name, ()))
    for prefix, implied in MANIFEST_PREFIXES.items():
        if name.startswith(prefix):
            tags.update(implied)
    if "/.github/workflows/" in f"/{path}":
        tags.update(("github-actions", "ci"))
    return tags


def _python_module(name: str) -> str | None:
    top = name.split(".")[0]
    if not top or top == "__future__" or top in sys.stdlib_module_names:
        return None
    return PYTHON_ALIASES.get(top, top.lower())


def _js_package(spec: str) -> str | None:
    if spec.startswith((".", "/", "@/", "~/", "#")) or spec.startswith("node:"):
        return None
    parts = spec.split("/")
    if spec.startswith("@"):
        if len(parts) < 2:
            return None
        scope = parts[0]
        if scope in LIBRARIES:
            return LIBRARIES[scope]
        return parts[1] if scope == "@types" else scope[1:]
    package = parts[0]
    if package in NODE_BUILTINS:
        return None
    return LIBRARIES.get(package, package.lower())


def unnumbered(text: str) -> str:
    """``text`` without the ``cat -n`` line numbers a Read result carries."""
    return _LINE_NUMBER.sub("", text) if "→" in text[:200] else text


def imports_in(code: str, language: str) -> set[str]:
    """Third-party modules imported by ``code`` (Python, JS/TS, Elixir), as tags."""
    code = unnumbered(code)
    found: set[str] = set()
    if language == "python":
        for from_name, import_names in _PY_IMPORT.findall(code):
            for name in [from_name] if from_name else import_names.split(","):
                module = _python_module(name.strip().split(" ")[0])
                if module:
                    found.add(module)
    elif language in ("javascript", "typescript", "vue", "svelte"):
        for spec in _JS_IMPORT.findall(code):
            package = _js_package(spec)
            if package:
                found.add(package)
    elif language == "elixir":
        for module in _EX_IMPORT.findall(code):
            if module in ELIXIR_MODULES:
                found.add(ELIXIR_MODULES[module])
    return {normalize(name) for name in found}


def dependencies_in(manifest_name: str, text: str) -> set[str]:
    """Well-known frameworks and libraries a manifest's text declares."""
    text = unnumbered(text)
    if manifest_name == "package.json":
        names = set(_JS_DEP.findall(text))
    elif manifest_name.startswith("requirements"):
        names = set(_REQUIREMENT.findall(text))
    elif manifest_name in ("pyproject.toml", "setup.py", "setup.cfg", "pipfile"):
        names = set(_QUOTED_DEP.findall(text))
    elif manifest_name == "mix.exs":
        names = set(_MIX_DEP.findall(text))
    elif manifest_name == "gemfile":
        names = set(_GEM.findall(text))
    elif manifest_name == "cargo.toml":
        names = set(_CARGO_DEP.findall(text))
    elif manifest_name == "go.mod":
        names = {path.split("/")[1] for path in _GO_REQUIRE.findall(text) if "/" in path}
    else:
        names = set()
    tags = set()
    for name in names:
        lowered = name.lower()
        key = lowered.split("/")[0] if lowered.startswith("@") else lowered
        if key in LIBRARIES:
            tags.add(LIBRARIES[key])
    return tags


# Programs that run the command after them: ``rtk`` is a proxy that a Claude Code hook puts
# before commands to shorten their output (``rtk git status``, ``rtk bun run test``).
WRAPPERS = frozenset({"sudo", "env", "time", "rtk"})


def from_program(words: list[str]) -> list[str]:
    """A simple command's words from its program on: without the variables it sets before
    it (``PYTHONPATH=. pytest``) or a program that runs it (``WRAPPERS``)."""
    while words and (_ENV_ASSIGNMENT.match(words[0]) or words[0] in WRAPPERS):
        words = words[1:]
    return words


def command_words(command: str) -> list[list[str]]:
    """Each simple command of a shell line as words, from its program on (``from_program``)."""
    simple_commands = []
    for part in _COMMAND_SPLIT.split(command[:2000]):
        words = from_program([w.strip("\"'") for w in part.split()])
        if words:
            simple_commands.append(words)
    return simple_commands


def command_tags(command: str) -> set[str]:
    """Tool tags a shell command implies (pytest, npm, docker, kubectl, alembic …)."""
    tags: set[str] = set()
    for words in command_words(command):
        program = words[0].rsplit("/", 1)[-1] if not words[0].startswith("./") else words[0]
        tags.update(COMMANDS.get(program, ()))
        rest = " ".join(words[1:3])
        for (tool, prefix), implied in SUBCOMMANDS.items():
            if program == tool and rest.startswith(prefix):
                tags.update(implied)
    if TEST_COMMAND.search(command):
        tags.add("testing")
    return tags


def activity_tags(signals: TagSignals) -> set[str]:
    """testing, debugging, refactoring, migration, deployment, documentation."""
    tags: set[str] = set()
    text = "\n".join(signals.texts)
    for activity, pattern in ACTIVITY_WORDS.items():
        if pattern.search(text):
            tags.add(activity)
    commands = "\n".join(signals.commands)
    if TEST_COMMAND.search(commands) or any(TEST_PATH.search(p) for p in signals.edited_paths):
        tags.add("testing")
    if signals.failures_resolved:
        tags.add("debugging")
    if MIGRATION_COMMAND.search(commands) or any(MIGRATION_PATH.search(p) for p in signals.paths):
        tags.add("migration")
    if DEPLOY_COMMAND.search(commands):
        tags.add("deployment")
    if any(DOC_PATH.search(p) for p in signals.edited_paths):
        tags.add("documentation")
    return tags


def tags_for(signals: TagSignals) -> list[str]:
    """All tags of a session, normalized, deduplicated and sorted."""
    tags: set[str] = set()
    local = {PurePosixPath(p).stem.lower() for p in signals.paths}
    local |= {part.lower() for p in signals.paths for part in PurePosixPath(p).parts[:-1]}
    for path in signals.paths:
        language = language_for_path(path)
        if language:
            tags.add(language)
        tags |= manifest_tags(path)
    for command in signals.commands:
        tags |= command_tags(command)
    imports = [(n, c) for n, c in signals.imports.items() if n not in local]
    imports.sort(key=lambda item: (-item[1], item[0]))
    tags.update(name for name, _ in imports[:MAX_IMPORT_TAGS])
    tags |= signals.libraries
    tags |= activity_tags(signals)
    return sorted({normalize(t) for t in tags if t and t.strip()})


def tags_for_events(events: Iterable[object]) -> list[str]:
    """Tags of a parsed session (an iterable of transcript events)."""
    from contextrecall.transcript.events import ToolResult, UserPrompt

    signals = TagSignals()
    for event in events:
        if isinstance(event, UserPrompt) and event.kind == "typed":
            signals.texts.append(event.text)
        elif isinstance(event, ToolResult) and event.call is not None and not event.is_error:
            collect_call_signals(signals, event.call.name, event.call.input, event.content)
    return tags_for(signals)


def collect_call_signals(
    signals: TagSignals, tool: str, tool_input: dict[str, object], result: str = ""
) -> None:
    """Add what one successful tool call says about the session to ``signals``."""
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if tool == "Bash":
        command = tool_input.get("command")
        if isinstance(command, str):
            signals.commands.append(command)
        return
    if not isinstance(path, str):
        return
    signals.paths.add(path)
    if tool in ("Edit", "MultiEdit", "Write", "NotebookEdit"):
        signals.edited_paths.add(path)
    if tool == "Write":
        code = tool_input.get("content")
    elif tool == "Edit":
        code = tool_input.get("new_string")
    elif tool == "MultiEdit":
        edits = tool_input.get("edits")
        code = (
            "\n".join(e.get("new_string", "") for e in edits if isinstance(e, dict))
            if isinstance(edits, list)
            else None
        )
    elif tool == "Read":
        code = result
    else:
        code = None
    if isinstance(code, str) and code:
        signals.add_code(path, code)
