"""Fuzz the redactor: it never raises, redacting twice changes nothing, and no secret of the
corpus survives, whatever text surrounds it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contextrecall.redaction import redact, redact_counts
from tests.fuzz.profile import CASES, FUZZ, assert_enough_cases
from tests.unit.redaction_corpus import LOOKALIKES, SECRETS

MARK = "[REDACTED:"
# Pieces of the rules' triggers and syntax, so random text often half-matches a rule.
FRAGMENTS = [
    "password",
    "PASSWORD=",
    "token: ",
    "api_key=",
    "secret",
    "Authorization: Bearer ",
    "Basic ",
    "-p",
    "--password ",
    "-u ",
    "://",
    "@",
    ":",
    "=",
    "'",
    '"',
    "\\",
    "\\n",
    "\n",
    " ",
    "$",
    "${",
    "}",
    "[REDACTED:",
    "]",
    "[REDACTED:password]",
    "-----BEGIN ",
    "PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "sk-",
    "sk-ant-",
    "ghp_",
    "xoxb-",
    "AKIA",
    "eyJ",
    "AIza",
    "hf_",
    "npm_",
    "SG.",
    "0123456789abcdef",
    "A1b2C3d4E5",
]
fragment_text = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS), st.sampled_from(LOOKALIKES)),
    max_size=12,
).map("".join)
byte_text = st.tuples(
    st.binary(max_size=200), st.sampled_from(["utf-8", "latin-1", "utf-16-le"])
).map(lambda pair: pair[0].decode(pair[1], "surrogateescape" if pair[1] == "utf-8" else "replace"))
any_text = st.one_of(st.text(max_size=200), fragment_text, byte_text)
# Corpus secrets are delimited from the random text around them, as in real transcripts: what
# a rule keys on (the assignment's name, the header) is part of each corpus row.
separators = st.sampled_from([" ", "\n", "\t", "\r\n", "  ", " \n"])


def check_redacted(text: str) -> str:
    """Redact ``text``; the result is a fixed point and every new placeholder is counted.

    (A count may outnumber the placeholders left: a secret whose value swallows an earlier
    placeholder, "mysql -p{[REDACTED:slack-token]", is replaced whole.)
    """
    redacted, counts = redact_counts(text)
    assert redact(redacted) == redacted, "redacting twice changed the text"
    assert all(n > 0 for n in counts.values())
    assert sum(counts.values()) >= redacted.count(MARK) - text.count(MARK)
    return redacted


def test_redactor_never_raises_and_is_idempotent_on_random_text() -> None:
    @FUZZ
    @given(text=any_text)
    def random_text(text: str) -> None:
        CASES["redactor, random text"] += 1
        check_redacted(text)

    random_text()
    assert_enough_cases("redactor, random text")


def test_no_corpus_secret_survives_in_random_surroundings() -> None:
    @FUZZ
    @given(
        row=st.sampled_from(SECRETS),
        before=any_text,
        after=any_text,
        left=separators,
        right=separators,
    )
    def embedded_secret(
        row: tuple[str, str, str], before: str, after: str, left: str, right: str
    ) -> None:
        CASES["redactor, corpus secret in random text"] += 1
        kind, text, secret = row
        redacted = check_redacted(f"{before}{left}{text}{right}{after}")
        assert secret not in redacted, f"{kind} secret survived"

    embedded_secret()
    assert_enough_cases("redactor, corpus secret in random text")
