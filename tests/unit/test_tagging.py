"""Tagging: deterministic, normalized tags from what a session touched and ran."""

from __future__ import annotations

from collections import Counter

from contextrecall.tagging import (
    TagSignals,
    activity_tags,
    command_tags,
    dependencies_in,
    imports_in,
    language_for_path,
    manifest_tags,
    normalize,
    tags_for,
    tags_for_events,
)
from contextrecall.transcript import parse_file
from tests.support import shared_transcript

shared = shared_transcript


def test_languages_come_from_file_extensions():
    assert language_for_path("src/app/page.tsx") == "typescript"
    assert language_for_path("lib/spotter_web/live/session_live.ex") == "elixir"
    assert language_for_path("tools/build.PY") == "python"
    assert language_for_path("README.md") is None


def test_manifests_imply_their_ecosystem():
    assert manifest_tags("/repo/package.json") == {"javascript", "npm"}
    assert manifest_tags("pyproject.toml") == {"python"}
    assert manifest_tags("Cargo.toml") == {"rust", "cargo"}
    assert manifest_tags("go.mod") == {"go"}
    assert manifest_tags("Gemfile") == {"ruby", "bundler"}
    assert manifest_tags("pom.xml") == {"java", "maven"}
    assert manifest_tags("docker-compose.yml") == {"docker", "docker-compose"}
    assert manifest_tags("deploy/Dockerfile") == {"docker"}
    assert manifest_tags("requirements-dev.txt") == {"python", "pip"}
    assert manifest_tags(".github/workflows/ci.yml") == {"github-actions", "ci"}


def test_python_imports_skip_the_standard_library_and_relative_imports():
    code = (
        "from __future__ import annotations\nimport os, sys\nimport numpy as np, requests\n"
        "from sqlalchemy.orm import Session\nfrom . import sibling\nimport yaml\n"
        "    from celery import shared_task\n"
    )
    assert imports_in(code, "python") == {"numpy", "requests", "sqlalchemy", "pyyaml", "celery"}


def test_read_results_with_line_numbers_still_yield_imports():
    code = "     1→import fastapi\n     2→from pydantic import BaseModel\n"
    assert imports_in(code, "python") == {"fastapi", "pydantic"}


def test_js_imports_and_requires_name_packages_not_local_files():
    code = (
        "import React from 'react'\nimport { x } from './local'\nconst fs = require('fs')\n"
        "import type { T } from '@testing-library/react'\nimport '@xterm/xterm/css/xterm.css'\n"
        "const nav = await import('next/navigation')\nconst express = require(\"express\")\n"
        "import { helper } from '@/lib/helper'\n"
    )
    assert imports_in(code, "typescript") == {
        "react",
        "testing-library",
        "xterm",
        "nextjs",
        "express",
    }


def test_elixir_uses_map_known_frameworks():
    code = "defmodule A do\n  use Phoenix.LiveView\n  alias Ecto.Changeset\n  alias MyApp.Repo\nend"
    assert imports_in(code, "elixir") == {"phoenix", "ecto"}


def test_manifest_contents_name_well_known_libraries_only():
    package = '{"dependencies": {"next": "15.5.2", "react": "^19.1.0", "left-pad": "1.0.0"}}'
    assert dependencies_in("package.json", package) == {"nextjs", "react"}
    requirements = "Django>=5.0\ncelery[redis]==5.4\nleft-pad\n"
    assert dependencies_in("requirements.txt", requirements) == {"django", "celery"}
    mix = 'defp deps do\n  [{:phoenix, "~> 1.7"}, {:ecto_sql, "~> 3.10"}, {:jason, "~> 1.2"}]'
    assert dependencies_in("mix.exs", mix) == {"phoenix", "ecto"}
    pyproject = 'dependencies = [\n  "sqlalchemy>=2.0,<3",\n  "click>=8.1",\n]'
    assert dependencies_in("pyproject.toml", pyproject) == {"sqlalchemy", "click"}


def test_commands_imply_tools():
    line = (
        "cd app && docker compose up -d && kubectl apply -f k8s/ && alembic upgrade head"
        " && celery -A proj worker && git push && FOO=1 sudo npm run build"
    )
    assert command_tags(line) == {
        "docker",
        "docker-compose",
        "kubernetes",
        "kubectl",
        "alembic",
        "celery",
        "git",
        "npm",
    }
    assert command_tags("python -m pytest -q") == {"python", "pytest", "testing"}
    assert command_tags("cargo test --all") == {"cargo", "rust", "cargo-test", "testing"}
    # what compression counts as a test run is tagged as one
    assert command_tags("make test") == {"make", "testing"}
    assert command_tags("mix phx.server") == {"mix", "elixir", "phoenix"}


def test_activities_come_from_paths_commands_and_intent():
    signals = TagSignals(
        paths={"migrations/versions/0003_add_index.py", "docs/setup.md"},
        edited_paths={"tests/test_cart.py", "docs/setup.md"},
        commands=["kubectl apply -f deploy/"],
        texts=["Refactor the cart service"],
    )
    assert activity_tags(signals) == {
        "testing",
        "migration",
        "deployment",
        "documentation",
        "refactoring",
    }
    assert "debugging" in activity_tags(TagSignals(failures_resolved=1))


def test_tags_are_normalized_deduplicated_sorted_and_deterministic():
    signals = TagSignals(
        paths={"src/Main.PY", "src/util.py", "package.json"},
        commands=["pytest", "Pytest -q"],
        imports=Counter({"Requests": 2, "requests": 1, "util": 3}),
        libraries={"React"},
    )
    tags = tags_for(signals)
    assert tags == sorted(set(tags))
    assert all(t == normalize(t) and t == t.lower() for t in tags)
    assert "requests" in tags and "react" in tags and "python" in tags
    assert "util" not in tags  # a module of the project itself, not a library
    reordered = TagSignals(
        paths=set(reversed(sorted(signals.paths))),
        commands=list(reversed(signals.commands)),
        imports=Counter(dict(reversed(list(signals.imports.items())))),
        libraries=set(signals.libraries),
    )
    assert tags_for(reordered) == tags


def test_import_tags_are_capped_to_the_most_used():
    signals = TagSignals(imports=Counter({f"lib{i:02d}": 100 - i for i in range(40)}))
    tags = tags_for(signals)
    assert tags == [f"lib{i:02d}" for i in range(15)]


def test_tags_of_a_real_session():
    events = parse_file(shared("claude-code-2.1/4d5611e5-241a-462a-8d15-5122611a9569.jsonl")).events
    tags = tags_for_events(events)
    assert {"elixir", "phoenix", "git", "mix", "testing", "javascript"} <= set(tags)
    assert tags == sorted(set(tags))
    todo = parse_file(shared("claude-code-1.0/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl")).events
    assert {"typescript", "react", "nextjs", "npm", "documentation"} <= set(tags_for_events(todo))
