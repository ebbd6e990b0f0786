"""`recall forget`, `pin`, `unpin`, `export` and `import` as a user runs them, on both
backends: what they print, what they change, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from contextrecall.crypto import generate_key
from contextrecall.migrate import upgrade
from tests.integration.memories import save_in_process
from tests.integration.test_forget import PROJECT, SESSION_A, SESSION_B, text_of
from tests.integration.workers import run_cli


def recall(settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(settings, *args, stdin=stdin, module="contextrecall.launcher")


def search(settings, query: str) -> dict:
    found = recall(settings, "search", query, "--project", PROJECT["name"], "--json")
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)


@pytest.fixture
def saved(kept):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    return kept


def test_forget_by_search_shows_a_preview_and_forgets_only_with_yes(saved):
    query = "stripe sandbox clock"
    before = search(saved, query)["items"]
    preview = recall(saved, "forget", "--search", query, "--project", PROJECT["name"])
    assert preview.returncode == 0, preview.stderr
    doomed = [item for item in before if item["kind"] != "session"]
    assert f"would forget {len(doomed)} memory(ies): run again with --yes" in preview.stdout
    assert all(item["id"] in preview.stdout for item in before)
    assert search(saved, query)["items"] == before  # a preview changes nothing
    done = recall(saved, "forget", "--search", query, "--project", PROJECT["name"], "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("forgot ")
    assert "Stripe sandbox" not in search(saved, query)["context"]


def test_pin_then_unpin_changes_the_session_start(saved):
    chosen = search(saved, "nightly ledger close advisory locks")["items"][0]
    pinned = recall(saved, "pin", chosen["id"])
    assert pinned.returncode == 0 and "pinned 1 memory(ies)" in pinned.stdout
    block = recall(saved, "inject", "--project", PROJECT["name"]).stdout
    assert block.splitlines()[1] == "## Pinned"
    assert recall(saved, "unpin", chosen["id"]).returncode == 0
    assert "## Pinned" not in recall(saved, "inject", "--project", PROJECT["name"]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forget"], "give memory ids, --session or --search (one of them)"),
        (["forget", "abc", "--session", "s"], "give memory ids, --session or --search"),
        (["forget", "no-such-id"], "no memory with id no-such-id"),
        (["forget", "--session", "no-such-session"], "no session 'no-such-session'"),
        (["forget", "--search", " ", "--project", "ledger"], "forgetting by search needs a query"),
        (["pin"], "give the ids of the memories"),
        (["pin", "no-such-id"], "no memory with id no-such-id"),
        (["export", "--project", "nowhere"], "no project named 'nowhere'"),
        (["import", "/nonexistent/export.jsonl"], "cannot read /nonexistent/export.jsonl"),
        (["forget", "x", "--project", "nowhere"], "no project named 'nowhere'"),
    ],
)
def test_bad_input_gets_one_clear_line(saved, args, message):
    result = recall(saved, *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"recall: error: {message}")


def test_export_to_a_file_then_import_into_another_store(saved, tmp_path):
    path = tmp_path / "ledger.jsonl"
    exported = recall(saved, "export", "--project", PROJECT["name"], "--deltas", "-o", str(path))
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # transcript text in clear
    records = path.read_text().splitlines()
    assert f"exported {len(records) - 1} record(s)" in exported.stderr
    other = saved.with_overrides(
        home=tmp_path / "other-home",
        database_url=f"sqlite:///{tmp_path / 'other.db'}",
        encryption_key=generate_key(),
    )
    upgrade(other)
    loaded = recall(other, "import", "-", stdin=path.read_text())
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith(f"imported into {PROJECT['name']}: ")
    assert "2 delta" in loaded.stdout
    assert (
        search(other, "stripe sandbox clock")["context"]
        == (search(saved, "stripe sandbox clock")["context"])
    )
    bad = recall(other, "import", "-", stdin="hello\n")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "recall: error: line 1: not JSON (Expecting value)"
    )
