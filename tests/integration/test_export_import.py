"""`recall export` / `recall import`: a project's memory moved between an SQLite store and a
MariaDB one, both ways, loses nothing (every record, pins, tombstones, the decrypted deltas
sealed again with the target's key), is idempotent, and never brings back what the target
forgot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contextrecall.crypto import generate_key
from contextrecall.curation import forgetting
from contextrecall.curation.records import BadRecord
from contextrecall.curation.transfer import export_lines, import_lines
from contextrecall.migrate import upgrade
from contextrecall.recall import service, session_start
from contextrecall.settings import Settings
from tests.integration.memories import save_in_process
from tests.integration.test_forget import PROJECT, SESSION_A, SESSION_B, text_of, turn


def the_other_backend(settings: Settings, request, tmp_path: Path) -> Settings:
    """An empty store of the other backend, with its own home and key."""
    if settings.is_embedded_database:
        url = request.getfixturevalue("empty_mariadb_url")
    else:
        url = f"sqlite:///{tmp_path / 'other.db'}"
    other = settings.with_overrides(
        home=tmp_path / "other-home", database_url=url, encryption_key=generate_key()
    )
    upgrade(other)
    return other


def comparable(lines: list[str]) -> list[dict]:
    """An export's records in a stable order, times to the second (MariaDB keeps no
    fraction), without the moment of the export."""
    found = []
    for line in lines[1:]:
        record = json.loads(line)
        for key, value in record.items():
            if key.endswith("_at") and isinstance(value, str):
                record[key] = value[:19]
        found.append(record)
    return sorted(found, key=lambda r: (r["type"], r.get("id", ""), r.get("content_hash", "")))


def test_a_round_trip_between_the_backends_loses_nothing(kept, request, tmp_path):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    pinned = service.search(kept, PROJECT["name"], "nightly ledger close")["items"][0]["id"]
    forgetting.pin_ids(kept, [pinned])
    stray = service.search(kept, PROJECT["name"], "export_ledger_nightly renamed")["items"]
    forgetting.forget_ids(kept, [next(i["id"] for i in stray if i["kind"] == "snippet")])
    exported = list(export_lines(kept, PROJECT["name"], deltas=True))
    kinds = {json.loads(line)["type"] for line in exported[1:]}
    assert kinds == {"session", "context", "decision", "snippet", "state", "forgotten", "delta"}

    other = the_other_backend(kept, request, tmp_path)
    first = import_lines(other, exported)
    assert first["project"] == PROJECT["name"]
    assert first["added"]["session"] == 2 and first["added"]["delta"] == 2
    again = import_lines(other, exported)  # idempotent
    assert sum(again["added"].values()) == 0
    back = list(export_lines(other, PROJECT["name"], deltas=True))
    assert comparable(back) == comparable(exported)

    # and back again into a fresh store of the first kind
    home = kept.with_overrides(home=tmp_path / "third-home", encryption_key=generate_key())
    if kept.is_embedded_database:
        third = home.with_overrides(database_url=f"sqlite:///{tmp_path / 'third.db'}")
    else:
        third = home.with_overrides(database_url=request.getfixturevalue("empty_mariadb_url"))
    upgrade(third)
    import_lines(third, back)
    assert comparable(list(export_lines(third, PROJECT["name"], deltas=True))) == comparable(
        exported
    )
    query = "how does the nightly close avoid double runs"
    assert (
        service.search(third, PROJECT["name"], query)["context"]
        == (service.search(kept, PROJECT["name"], query)["context"])
    )
    assert session_start.session_start_block(third, PROJECT["name"]).startswith(
        session_start.session_start_block(kept, PROJECT["name"]).split("\n## Where")[0]
    )


def test_an_import_never_brings_back_what_the_target_forgot(kept, request, tmp_path):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    exported = list(export_lines(kept, PROJECT["name"]))
    other = the_other_backend(kept, request, tmp_path)
    import_lines(other, exported)
    forgetting.forget_session(other, "sa")
    import_lines(other, exported)
    assert (
        "Stripe sandbox" not in service.search(other, PROJECT["name"], "stripe sandbox")["context"]
    )
    # the sessions it does not know come in
    save_in_process(kept, PROJECT, "sc", text_of(turn(7, "Bump the ledger API", "Bumped to v3.")))
    report = import_lines(other, list(export_lines(kept, PROJECT["name"])))
    assert report["added"]["session"] == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "the export is empty"),
        (["not json"], "line 1: not JSON"),
        (['{"type":"session"}'], "line 1: not a Context Recall export"),
        (['{"type":"context-recall-export","version":9,"project":{}}'], "export version 9"),
        (
            ['{"type":"context-recall-export","version":1,"project":{"identity":"x"}}', "[1]"],
            "line 2: not a record",
        ),
        (
            [
                '{"type":"context-recall-export","version":1,"project":{"identity":"x"}}',
                '{"type":"gossip","id":"1"}',
            ],
            "line 2: unknown record type 'gossip'",
        ),
        (
            [
                '{"type":"context-recall-export","version":1,"project":{"identity":"x"}}',
                '{"type":"decision","id":"d1"}',
            ],
            "a record lacks a field or holds one of the wrong type",
        ),
        (
            [
                '{"type":"context-recall-export","version":1,"project":{"identity":"x"}}',
                '{"type":"session","id":"s1","external_id":"e","created_at":"yesterday"}',
            ],
            "a record lacks a field or holds one of the wrong type",
        ),
    ],
)
def test_a_bad_export_is_refused_with_the_line_that_is_wrong(backend, lines, message):
    with pytest.raises(BadRecord, match=message):
        import_lines(backend, lines)
