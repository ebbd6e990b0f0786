"""The read path on every backend: budgets, isolation, the cache and the hook's context."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contextrecall.client.deltas import Delta
from contextrecall.crypto import KeyRing, generate_key
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.recall import service, session_start
from contextrecall.settings import Settings
from contextrecall.store.save_job import save_job
from contextrecall.terms import estimate_tokens
from tests.integration.workers import run_hook, settings_env

RING = KeyRing(generate_key())
FACTS = [
    ("Ana", "We moved the production database from SQLite to MariaDB because of lock errors"),
    ("Bo", "The MariaDB migration needs the utf8mb4 charset on every connection"),
    ("Ana", "Deploys happen on Tuesdays after the standup meeting"),
    ("Bo", "The staging cluster runs on three nodes behind an nginx proxy"),
    ("Ana", "Our flaky login test fails when the Redis cache is cold"),
]


def save_chat(settings: Settings, project: str, session: str, facts=FACTS, start: int = 0):
    text = "".join(
        json.dumps(
            {"role": "user", "speaker": who, "content": what, "timestamp": "2026-05-01T10:00:00Z"}
        )
        + "\n"
        for who, what in facts
    ).encode()
    job = build_job(
        project={"name": project, "identity": f"name:{project}"},
        machine=None,
        session_external_id=session,
        source_format="chat",
        delta=Delta(start, start + len(text), text),
        event="save",
    )
    with session_scope(settings) as db:
        return save_job(db, job, RING)


@pytest.fixture
def cached(backend: Settings, redis_url: str) -> Settings:
    import redis

    base = redis_url.rsplit("/", 1)[0]
    redis.Redis.from_url(f"{base}/12").flushdb()
    return backend.with_overrides(cache_url=f"{base}/12", broker_url=f"{base}/13")


@pytest.mark.parametrize("budget", [5, 20, 40, 80, 200, 1000])
def test_budgets_are_never_exceeded(backend, budget):
    save_chat(backend, "alpha", "s1")
    result = service.search(backend, "alpha", "MariaDB database migration", budget=budget)
    assert result["tokens"] <= budget
    assert estimate_tokens(result["context"]) <= budget
    for block in (
        session_start.session_start_block(backend, "alpha", budget),
        service.prompt_block(backend, "alpha", "the MariaDB migration", budget),
    ):
        assert estimate_tokens(block) <= budget


def test_search_ranks_the_matching_fact_first_with_date_and_speaker(backend):
    save_chat(backend, "alpha", "s1")
    result = service.search(backend, "alpha", "which nodes does staging run on?")
    assert result["items"][0]["kind"] == "fact"
    assert result["items"][0]["text"] == (
        "- [2026-05-01] Bo: The staging cluster runs on three nodes behind an nginx proxy"
    )
    assert set(result) == {"query", "project", "tokens", "context", "items"}


def test_an_unknown_or_empty_project_gives_empty_output_and_exit_0(backend):
    assert service.search(backend, "nobody", "anything")["items"] == []
    env = settings_env(backend)
    for args in (
        ["search", "anything", "--project", "nobody"],
        ["inject", "--project", "nobody"],
        ["search", "anything", "--project", "nobody", "--json"],
    ):
        run = subprocess.run(
            [sys.executable, "-m", "contextrecall.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() in ("", json.dumps(service._empty("anything", "nobody")))


def test_prompt_context_is_empty_when_nothing_clears_the_bar(backend):
    save_chat(backend, "alpha", "s1")
    assert service.prompt_block(backend, "alpha", "thanks, looks good") == ""
    assert "utf8mb4" in service.prompt_block(backend, "alpha", "what charset does MariaDB need?")


@pytest.mark.parametrize("use_cache", [False, True])
def test_near_identical_projects_never_leak_into_each_other(backend, redis_url, use_cache):
    settings = backend
    if use_cache:
        settings = backend.with_overrides(cache_url=redis_url.rsplit("/", 1)[0] + "/12")
    save_chat(settings, "alpha", "s1", [(w, f"{t} in ALPHA-ONLY") for w, t in FACTS])
    save_chat(settings, "beta", "s1", [(w, f"{t} in BETA-ONLY") for w, t in FACTS])
    for _ in range(2):  # the second round is served from the cache when there is one
        a = service.search(settings, "alpha", "MariaDB migration charset")
        b = service.search(settings, "beta", "MariaDB migration charset")
        assert "ALPHA-ONLY" in a["context"] and "BETA-ONLY" not in a["context"]
        assert "BETA-ONLY" in b["context"] and "ALPHA-ONLY" not in b["context"]
        start_a = session_start.session_start_block(settings, "alpha")
        assert "BETA-ONLY" not in start_a


def test_a_save_invalidates_the_cache(cached):
    from contextrecall import generation

    stored = save_chat(cached, "alpha", "s1")
    first = service.search(cached, "alpha", "kubernetes upgrade")
    assert first["items"] == []
    again = service.search(cached, "alpha", "kubernetes upgrade")  # from the cache
    assert again == first
    save_chat(cached, "alpha", "s2", [("Bo", "The kubernetes upgrade is scheduled for June")])
    generation.bump_generation(cached, stored.project_identity)  # what the save task does
    fresh = service.search(cached, "alpha", "kubernetes upgrade")
    assert "scheduled for June" in fresh["context"]


def test_cache_down_means_slower_not_broken(backend):
    dead = backend.with_overrides(cache_url="redis://127.0.0.1:1/0")
    save_chat(dead, "alpha", "s1")
    assert "utf8mb4" in service.search(dead, "alpha", "charset")["context"]
    assert session_start.session_start_block(dead, "alpha").startswith("# Context Recall")


def test_jsonl_batch_answers_each_query_in_order(backend):
    save_chat(backend, "alpha", "s1")
    queries = ["charset", "deploy tuesday", "nothing matches zzz"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "contextrecall.cli",
            "search",
            "--project",
            "alpha",
            "--jsonl",
            "--budget",
            "100",
        ],
        input="\n".join(queries) + "\n",
        env=settings_env(backend),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [a["query"] for a in answers] == queries
    assert "utf8mb4" in answers[0]["context"] and "Tuesdays" in answers[1]["context"]
    assert answers[2]["items"] == [] and all(a["tokens"] <= 100 for a in answers)


def test_hook_returns_claude_code_json_for_session_start_and_prompts(cached, tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:a/b.git\n')
    job = build_job(
        project={"name": "a/b", "identity": "git:github.com/a/b"},
        machine=None,
        session_external_id="s1",
        source_format="chat",
        delta=Delta(0, 10, json.dumps({"speaker": "Ana", "content": FACTS[1][1]}).encode() + b"\n"),
        event="save",
    )
    with session_scope(cached) as db:
        save_job(db, job, RING)

    def hook(event: dict) -> subprocess.CompletedProcess:
        return run_hook(cached, {"cwd": str(repo), "session_id": "x", **event})

    for _ in range(2):  # a miss, then a cache hit
        start = hook({"hook_event_name": "SessionStart", "source": "startup"})
        assert start.returncode == 0
        output = json.loads(start.stdout)["hookSpecificOutput"]
        assert output["hookEventName"] == "SessionStart"
        assert "memory of a/b" in output["additionalContext"]
        assert len(start.stdout) < 10_000
    prompt = hook({"hook_event_name": "UserPromptSubmit", "prompt": "which charset for MariaDB?"})
    assert "utf8mb4" in json.loads(prompt.stdout)["hookSpecificOutput"]["additionalContext"]
    unrelated = hook({"hook_event_name": "UserPromptSubmit", "prompt": "ok thanks"})
    assert unrelated.returncode == 0 and unrelated.stdout == ""


def _term_counts(settings: Settings, project: str) -> dict[str, int]:
    from sqlalchemy import select

    from contextrecall.models import Project, TermCount

    with session_scope(settings) as db:
        return dict(
            db.execute(
                select(TermCount.term, TermCount.documents)
                .join(Project, Project.id == TermCount.project_id)
                .where(Project.name == project)
            ).all()
        )


def test_saves_count_each_new_snippets_terms_once(backend):
    save_chat(backend, "alpha", "s1")
    counts = _term_counts(backend, "alpha")
    assert counts[""] == len(FACTS)
    assert counts["mariadb"] == 2 and counts["stage"] == 1 and counts["deploy"] == 1
    save_chat(backend, "alpha", "s2")  # the same facts again: occurrences, not new snippets
    assert _term_counts(backend, "alpha") == counts
    save_chat(backend, "beta", "s1", facts=[("Cy", "MariaDB again")])
    assert _term_counts(backend, "alpha") == counts
    # title "Cy: ..."; a camelCase word counts whole and by its parts
    assert _term_counts(backend, "beta") == {"": 1, "cy": 1, "mariadb": 1, "maria": 1, "db": 1}


def test_a_rare_word_finds_its_fact_among_many_sharing_the_common_words(backend):
    crowd = [
        ("Ana", f"The release checklist item number {i} is about the release") for i in range(300)
    ]
    save_chat(backend, "alpha", "s1", facts=[*crowd, ("Bo", "The release uses the zanzibar key")])
    result = service.search(backend, "alpha", "which key does the release use? zanzibar")
    assert result["items"][0]["text"].endswith("Bo: The release uses the zanzibar key")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0"], "between 1 and 100000 tokens"),
        (["--budget", "100001"], "between 1 and 100000 tokens"),
        (["--limit", "501"], "between 1 and 500 items"),
        (["x" * 10_001], "query longer than 10000 characters"),
    ],
)
def test_search_limits_give_one_line_errors(backend, args, message):
    save_chat(backend, "alpha", "s1")
    result = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "search", "--project", "alpha", *args],
        env=settings_env(backend),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_items_per_answer_are_capped_and_a_huge_prompt_is_ranked_by_its_start(backend):
    many = [("Ana", f"Deploy service x{i} y{i * 7} z{i * 13} w{i * 17}") for i in range(600)]
    save_chat(backend, "alpha", "s1", facts=many)
    result = service.search(backend, "alpha", "deploy service", budget=100_000)
    assert len(result["items"]) == service.MAX_ITEMS
    block = service.prompt_block(backend, "alpha", "deploy service " + "filler " * 20_000)
    assert "deploy" in block.lower() and estimate_tokens(block) <= service.PROMPT_BUDGET


def test_an_answer_is_found_through_the_question_before_it(backend):
    """The answer shares no word with the query; on MariaDB it is not a text-index candidate
    and comes in as the neighbour of the question that is."""
    talk = [
        (who, f"Filler line {n} about the weather and the garden")
        for n, who in enumerate(["Ana", "Bo"] * 20)
    ]
    talk[21] = ("Ana", "Who performed at the concert for your daughter's birthday?")
    talk[22] = ("Bo", "It was Matt Patterson, he is so talented!")
    save_chat(backend, "alpha", "s1", facts=talk)
    result = service.search(backend, "alpha", "Who performed at the birthday concert?", budget=60)
    lines = result["context"].splitlines()
    question = lines.index("Ana: performed concert daughter's birthday?")
    assert lines[question + 1] == "Bo: Matt Patterson, talented!"


def test_migrations_recount_terms_and_fill_turn_places_for_existing_rows(empty_backend):
    """0006 counts the stored snippets' terms again under Snowball stems; 0007 copies a chat
    turn's place out of ``structured_data`` (rows written before either revision)."""
    from sqlalchemy import text

    from contextrecall import migrate
    from contextrecall.db import get_engine
    from contextrecall.terms import stem

    migrate.upgrade(empty_backend, "0005")
    rows = [
        ('{"session": "s9", "part": 0, "position": 4}', "Staging runs nightly"),
        ('{"speaker": "Ana"}', "Staging again"),
        ("not json", "Cities"),
    ]
    with get_engine(empty_backend).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (id, name, identity, created_at, updated_at) VALUES"
                " ('00000000-0000-0000-0000-0000000000aa', 'p', 'name:p',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO term_counts (project_id, term, documents) VALUES"
                " ('00000000-0000-0000-0000-0000000000aa', 'stag', 9)"
            )
        )
        for n, (data, content) in enumerate(rows):
            connection.execute(
                text(
                    "INSERT INTO context_snippets (id, project_id, category, title,"
                    " dense_content, structured_data, created_at, updated_at) VALUES (:id,"
                    " '00000000-0000-0000-0000-0000000000aa', 'fact', 'Ana', :content, :data,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": f"00000000-0000-0000-0000-00000000000{n}", "data": data, "content": content},
            )
    migrate.upgrade(empty_backend)
    with get_engine(empty_backend).connect() as connection:
        places = connection.execute(
            text("SELECT turn_session, turn_part, turn_position FROM context_snippets ORDER BY id")
        ).all()
        counts = dict(connection.execute(text("SELECT term, documents FROM term_counts")).all())
    assert [tuple(row) for row in places] == [("s9", 0, 4), (None, None, None), (None, None, None)]
    assert counts[""] == 3 and counts[stem("staging")] == 2 and counts[stem("cities")] == 1
    assert "stag" not in counts and counts["ana"] == 3
