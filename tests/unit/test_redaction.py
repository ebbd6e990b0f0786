"""Secret redaction: secrets become typed placeholders, lookalikes and surrounding text survive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contextrecall.redaction import redact, redact_counts
from tests.unit.redaction_corpus import LOOKALIKES, SECRETS

TRANSCRIPTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "transcripts"
_CSS_SK = re.compile(r"\bsk-[a-z]+(?:-[a-z]+)*\b")
_SHA = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{40}(?![0-9a-fA-F])")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def _ids(rows: list) -> list[str]:
    return [f"{i}-{row[0] if isinstance(row, tuple) else row[:30]}" for i, row in enumerate(rows)]


@pytest.mark.parametrize(("kind", "text", "secret"), SECRETS, ids=_ids(SECRETS))
def test_secret_is_replaced_by_placeholder_of_its_kind(kind: str, text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert f"[REDACTED:{kind}]" in redacted


@pytest.mark.parametrize("text", LOOKALIKES, ids=_ids(LOOKALIKES))
def test_lookalike_is_left_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text", [row[1] for row in SECRETS] + LOOKALIKES)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@pytest.mark.parametrize(("kind", "text", "secret"), SECRETS, ids=_ids(SECRETS))
def test_surrounding_text_is_preserved(kind: str, text: str, secret: str) -> None:
    before, _, after = f"intro line\n{text}\noutro line".partition(secret)
    redacted = redact(f"intro line\n{text}\noutro line")
    assert redacted.startswith("intro line\n")
    assert redacted.endswith("\noutro line")
    if kind not in {"private-key", "url-credentials"}:  # replaced whole, or with the user
        assert redacted == before + f"[REDACTED:{kind}]" + after


def test_url_credentials_keep_scheme_and_host() -> None:
    text = "postgres://app:" + "pw" + "123xyz@db:5432/x"
    assert redact(text) == "postgres://[REDACTED:url-credentials]@db:5432/x"


def test_authorization_keeps_header_name_and_scheme() -> None:
    text = "Authorization: Bearer " + "abc123" * 4
    assert redact(text) == "Authorization: Bearer [REDACTED:authorization]"


def test_assignment_keeps_key_name() -> None:
    assert redact("export DB_PASSWORD=" + "s3cret!x") == "export DB_PASSWORD=[REDACTED:password]"


def test_counts_report_each_kind() -> None:
    text = "PASSWORD=" + "abc123xy" + " and token ghp_" + "A1b2C3" * 6
    _, counts = redact_counts(text)
    assert counts == {"password": 1, "github-token": 1}


def test_text_without_secrets_reports_no_counts() -> None:
    assert redact_counts("nothing to see here") == ("nothing to see here", {})


def _transcript_files(request: pytest.FixtureRequest) -> list[Path]:
    folder = TRANSCRIPTS
    if not folder.is_dir():
        folder = request.getfixturevalue("shared_data") / "transcripts"
    files = sorted(folder.rglob("*.jsonl"))
    assert files, f"no transcripts under {folder}"
    return files


def test_real_transcripts_keep_css_class_names_shas_and_uuids(
    request: pytest.FixtureRequest,
) -> None:
    for path in _transcript_files(request):
        raw = path.read_text(encoding="utf-8", errors="replace")
        redacted = redact(raw)
        for pattern in (_CSS_SK, _SHA, _UUID):
            for found in set(pattern.findall(raw)):
                assert found in redacted, f"{found!r} lost from {path.name}"
        assert redact(redacted) == redacted


# Found by the fuzz suite (tests/fuzz/test_fuzz_redaction.py).
@pytest.mark.parametrize(
    "text",
    [
        "mysql -p" + "0" + " -p" + "0",  # a second secret sharing the first one's context
        "mysql -u root -p" + "s3cretA" + " -p" + "s3cretB" + " app",
    ],
)
def test_every_secret_sharing_one_context_is_redacted_in_one_call(text: str) -> None:
    once = redact(text)
    assert once.count("[REDACTED:password]") == 2
    assert redact(once) == once


def test_sshpass_password_is_found_before_a_later_dash_p() -> None:
    text = "sshpass -p " + "hunter2" + "Xy9!" + " ssh user@host -p0"
    assert redact(text) == "sshpass -p [REDACTED:password] ssh user@host -p0"


def test_assignment_without_value_does_not_swallow_the_next_key() -> None:
    text = "PASSWORD= MYSQL_ROOT_PASSWORD: " + "hunter2" + "Xy9!"
    assert redact(text) == "PASSWORD= MYSQL_ROOT_PASSWORD: [REDACTED:password]"


def test_bearer_value_that_is_the_next_key_is_left_for_that_assignment() -> None:
    text = "Authorization: Bearer access_token = '" + "at" + "Z9" * 10 + "'"
    assert redact(text) == "Authorization: Bearer access_token = '[REDACTED:secret]'"


def test_escaped_quoted_key_after_an_empty_assignment_keeps_its_own_value() -> None:
    text = 'PASSWORD= \\"password\\": \\"' + "hunter2" + 'Xy9!\\"'
    assert redact(text) == 'PASSWORD= \\"password\\": \\"[REDACTED:password]\\"'


def test_a_secret_is_found_even_when_an_earlier_match_covers_its_context() -> None:
    text = "Authorization: Bearer sshpass -p " + "hunter2" + "Xy9!" + " ssh user@host"
    redacted = redact(text)
    assert "hunter2" not in redacted and redact(redacted) == redacted


def test_a_match_whose_value_is_the_next_header_does_not_hide_that_header() -> None:
    text = "AUTHORIZATION:BEARER Authorization: Bearer " + "abc123DEF456ghi789"
    assert "abc123DEF456ghi789" not in redact(text)


def test_the_triggers_found_are_those_of_a_lookahead_scan():
    """``_triggers_in`` searches on from each match instead of compiling the trie's lookahead
    form: the same overlapping triggers, on every text of the corpus."""
    from contextrecall.redaction import engine

    lookahead = re.compile(f"(?=({engine._TRIE}))")
    texts = [text for _, text, *_ in SECRETS] + list(LOOKALIKES)
    texts += ["passwd password pass", "api_key apikey secret_key token", "pgpassword -pfoo"]
    for text in texts:
        lowered = text.lower()
        assert engine._triggers_in(lowered, 0) == set(lookahead.findall(lowered, 0)), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "the id is <private>SSN 123-45-6789\nand more</private> on port 8080",
            "the id is [REDACTED:private] on port 8080",
        ),
        (
            "two <PRIVATE>a</Private> b <private>c</private> d",
            "two [REDACTED:private] b [REDACTED:private] d",
        ),
        ("an unclosed <private>diary entry, never to leave", "an unclosed [REDACTED:private]"),
    ],
)
def test_what_a_prompt_marks_private_never_leaves(text: str, expected: str) -> None:
    """Issue 30: text between <private> and </private> is dropped whole, tags included, in
    any case; an unclosed span runs to the end of its text rather than leave a fragment."""
    assert redact(text) == expected
    assert redact(expected) == expected
