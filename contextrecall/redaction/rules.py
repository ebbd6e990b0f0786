"""Secret redaction rules: what counts as a secret, one detector per kind of secret.

Pure, standard library only, and fast enough for multi-megabyte transcripts: each rule's
regex starts with a literal (a fast scan), a short text is first checked with one prefix-tree
regex of every rule's trigger and only the triggered rules run, case-insensitive rules scan an
ASCII-lowered copy instead of using ``(?i)``, and every quantifier is bounded, with no nested
repetition that could backtrack catastrophically.

Every rule reads the original text and overlapping finds merge into one placeholder named
by the most specific rule (rules are listed most specific first), so a provider token inside an
assignment or a header is reported with its provider's kind, and one rule's match never hides
the context another rule needs. No find starts on a ``[REDACTED:`` placeholder, and passes
repeat until nothing changes, which makes ``redact`` idempotent.

What is kept: the key of an assignment (``DB_PASSWORD=[REDACTED:password]``), the header name
and scheme word of an Authorization header, the scheme and host of a URL with credentials, and
the user of ``curl -u user:pass``.

Borderline decisions:

* Assignments are redacted only when the key *ends* with a secret word (password, passwd,
  passphrase, ``_pass``, ``_pwd``, secret, token, api key, access key, private key,
  credentials...), so ``password_hash``, ``token_count`` and ``max_tokens`` are identifiers.
  Bare ``pwd`` (the shell's working directory) and ``bypass`` are not secret words.
* A value is left alone when it is a reference rather than a secret: ``$VAR``/``${VAR}``,
  ``<placeholder>``, ``{{template}}``, ``%(name)s``, a call or attribute access
  (``getpass()``, ``os.environ.get(...)``, ``self.token``), a variable named like the key
  (``password=password``, ``token=access_token``), a literal such as None/null/true/false,
  a type annotation (``token: str``), an empty string, a masked value (``****``), a path
  (``/run/secrets/db``) or a short number (``token: 0``).
* An unquoted value after ``:`` must be at least four characters and not a common prose word,
  which keeps "the password: it is stored hashed" intact; quoted values are redacted even when
  they look like placeholders (``"changeme"``) because that costs nothing.
* Values stop at whitespace, quotes, commas, semicolons, closing brackets and backslashes (the
  raw JSON escape of a newline), so a password containing those characters is redacted only up
  to the first of them; quoted values may contain any of them but the closing quote.
* ``sk-`` keys need a digit and at least 32 characters without dashes (legacy and DeepSeek
  style) or an explicit ``sk-proj-``/``sk-svcacct-``/``sk-admin-``/``sk-ant-`` prefix, so CSS
  class names such as ``sk-notification`` or ``sk-spinner-large`` survive.
* Git SHAs, UUIDs and ``sha256:`` digests are hex: no rule matches bare hex except AWS secret
  keys and Twilio keys, which need their key name or their ``SK`` prefix respectively.
* URLs with credentials are redacted even when the password looks like a placeholder
  (``postgres://user:password@localhost``), unless it is a ``$VAR`` reference.
* ``--password word`` (space separated) needs a value with a digit or symbol, so prose such
  as "pass --password flag" survives; ``--password=value`` is always redacted.
* Text between ``<private>`` and ``</private>`` (any case) is replaced whole, tags included: the
  user's own mark, whatever it holds; an unclosed ``<private>`` runs to the end of its text.
* A private key block is replaced whole, from BEGIN to END (or to the end of its base64 body
  when the END line is missing), so no fragment of the key remains.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PLACEHOLDER = "[REDACTED:{}]"
MARK = "[REDACTED:"


class Hit:
    """A match found in the haystack, read back from the original text by position."""

    __slots__ = ("match", "text")

    def __init__(self, match: re.Match[str], text: str) -> None:
        self.match = match
        self.text = text

    def group(self, name: int | str) -> str | None:
        start, end = self.match.span(name)
        return None if start < 0 else self.text[start:end]

    def before(self) -> str:
        start = self.match.start()
        return self.text[start - 1] if start else ""

    def after_escape(self) -> bool:
        """The match follows a JSON escape such as ``\\n`` in raw transcript text."""
        start = self.match.start()
        return start >= 2 and self.text[start - 2] == "\\"

    def value_span(self, group: int | str) -> tuple[int, int]:
        if group == "assignment":
            name = "qv" if self.match.start("qv") >= 0 else "uv"
            return self.match.span(name)
        return self.match.span(group)


Check = Callable[[Hit], bool]


class Rule:
    """One detector: ``group`` of each match of ``pattern`` becomes a placeholder.

    The regex is compiled on first use: the hook redacts a few short lines per run, and
    compiling every rule up front would cost more than the rest of the hook (a plain class,
    not a dataclass, for the same reason: ``dataclasses`` imports ``inspect``).
    """

    __slots__ = (
        "_compiled",
        "boundary",
        "check",
        "group",
        "kind",
        "kind_of",
        "lower",
        "source",
        "triggers",
    )

    def __init__(
        self,
        kind: str,
        source: str,
        group: int | str = 0,
        check: Check | None = None,
        kind_of: Callable[[Hit], str] | None = None,
        boundary: bool = True,  # the match must not continue a word
        lower: bool = False,  # a lowercase pattern, run over an ASCII-lowered copy of the text
        triggers: tuple[str, ...] = (),  # lowercase; one must occur (default: literal prefix)
    ) -> None:
        self.kind, self.source, self.group, self.check = kind, source, group, check
        self.kind_of, self.boundary, self.lower = kind_of, boundary, lower
        self.triggers = triggers or (_literal_prefix(source),)
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled


def _literal_prefix(pattern: str) -> str:
    """The lowercased literal text every match of ``pattern`` starts with."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in ".-/":
            out.append(pattern[i + 1])
            i += 2
            continue
        if char in ".^$*+?{}[]()|\\":
            if char in "?*{" and out:
                out.pop()
            break
        out.append(char)
        i += 1
    return "".join(out).lower()


def _mixed(value: str) -> bool:
    """A token-like value: has a digit and a letter."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _upper_and_lower(value: str) -> bool:
    return any(c.isupper() for c in value) and any(c.islower() for c in value)


# --- values that are references, not secrets ---------------------------------------------

_LITERALS = frozenset(
    [
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "yes",
        "no",
        "on",
        "off",
        "empty",
        "required",
        "optional",
        "str",
        "string",
        "int",
        "integer",
        "bytes",
        "bool",
        "boolean",
        "any",
        "object",
        "number",
        "text",
        "password",
        "secret",
        "token",
        "redacted",
        "masked",
        "hidden",
        "unset",
        "default",
        "env",
    ]
)
_PROSE = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "it",
        "its",
        "this",
        "that",
        "to",
        "of",
        "for",
        "and",
        "or",
        "not",
        "be",
        "in",
        "on",
        "with",
        "as",
        "by",
        "from",
        "at",
        "you",
        "your",
        "our",
        "we",
        "they",
        "them",
        "if",
        "then",
        "when",
        "will",
        "can",
        "should",
        "must",
        "may",
        "use",
        "used",
        "using",
        "set",
        "stored",
        "hashed",
        "required",
        "missing",
        "invalid",
        "wrong",
        "incorrect",
        "expired",
        "needed",
        "optional",
        "here",
        "there",
        "below",
        "above",
        "none",
        "see",
        "enter",
        "type",
        "provide",
    ]
)
SECRET_WORD = re.compile(
    r"(?i)(?:password|passwd|pwd|pass|passphrase|secret|token|key|credentials?)$"
)
_REFERENCE_START = ("$", "<", "{{", "%(", "%", "[", "@", "&", "*", "(", "{")


def _is_reference(value: str, quoted: bool) -> bool:
    """True when ``value`` names or computes a secret rather than containing one."""
    stripped = value.strip()
    if not stripped or stripped.startswith(_REFERENCE_START):
        return True
    if set(stripped) <= set("*x.•-_#?"):  # masked or elided
        return True
    if stripped.lower() in _LITERALS and not quoted:
        return True
    if quoted:
        return stripped.startswith(("{", "process.env", "os.environ")) and stripped.endswith("}")
    if "(" in stripped or "[" in stripped or stripped.startswith(("/", "./", "../", "~/")):
        return True
    if stripped.isdigit() and len(stripped) <= 5:
        return True
    ident = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+", stripped)
    if ident and not stripped[0].isdigit():  # attribute access: self.token, args.password
        return True
    # password=password, token=access_token, secret=clientSecret
    return bool(
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stripped)
        and SECRET_WORD.search(stripped)
        and ("_" in stripped or stripped.lower() in _LITERALS or _upper_and_lower(stripped[1:]))
    )


def _assignment_ok(match: Hit) -> bool:
    key = match.group("key").lower()
    if key == "pass" and match.before().isalnum():  # bypass, compass
        return False
    if key == "pwd" and match.before() != "_":  # the shell's working directory
        return False
    if key == "key":  # only api_key, accessKey, private-key, ...
        start = match.match.start()
        if not _KEY_PREFIX.search(match.text[max(0, start - 12) : start].lower()):
            return False
    quoted = match.group("qv") is not None
    value = match.group("qv") if quoted else match.group("uv")
    if _is_reference(value, quoted):
        return False
    if not quoted and match.group("sep") == ":":
        if len(value) < 4 or value.lower() in _PROSE:
            return False
        if value.isalpha() and value.islower() and match.group("key")[:1].islower():
            # "password: hunter" reads like prose or YAML with a type; keep lowercase words
            # only when long enough to be a credential.
            return len(value) >= 8
    return True


def _assignment_kind(match: Hit) -> str:
    key = match.group("key").lower()
    return "password" if "pass" in key or "pwd" in key else "secret"


def _value_ok(match: Hit) -> bool:
    value = match.group("v")
    return not _is_reference(value, False)


def _flag_ok(match: Hit) -> bool:
    value = match.group("v")
    if _is_reference(value, False) or value.startswith("-"):
        return False
    if match.group("eq") == "=":
        return True
    return not value.isalpha()


def _url_ok(match: Hit) -> bool:
    password = match.group("v").split(":", 1)[1]
    return match.before().isalnum() and not password.startswith(("$", "[", "{", "<"))


def _sk_ok(match: Hit) -> bool:
    return _mixed(match.group(0)[3:])


def _hf_ok(match: Hit) -> bool:
    return _upper_and_lower(match.group(0)[3:])


def _bearer_ok(match: Hit) -> bool:
    return _mixed(match.group("v"))


# --- patterns ------------------------------------------------------------------------------
# Patterns start with a literal where possible (the regex engine then skips ahead quickly);
# word boundaries before a match are checked in Python, never with a leading ``\b``.
# Case-insensitive rules are written in lowercase and run over an ASCII-lowered copy of the
# text (same length, so spans carry over): a ``(?i)`` scan would be ten times slower.


_Q = r"\\?[\"']"  # a quote, possibly JSON-escaped in raw transcript text
_UNQUOTED = r"[^\s\"'`,;)\]}\\]{1,512}"

_AWS_ID_PREFIXES = ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa")
_AWS_ID_PREFIXES += ("anva", "apka")
_KEY_PREFIX = re.compile(r"(?:api|access|private|auth|signing|encryption|master)[_-]?$")
_ASSIGNMENT_VALUE = (
    r"(?P<pre>" + _Q + r"?[ \t]{0,3}(?P<sep>:(?!:)|=(?![=>~]))[ \t]{0,3})"
    r"(?:(?P<q>" + _Q + r")(?P<qv>(?:[^\"'\\\n]|\\[^\"'\n]){1,512}?)(?P=q)"
    r"|(?P<uv>(?![\"'])" + _UNQUOTED + r"))"
)
_ASSIGNMENT_KEYS = (
    r"pass(?:word|wd|phrase)?",
    r"pwd",
    r"secret(?:[_-]?key(?:[_-]?base)?)?",
    r"token",
    r"key",
    r"credentials?",
)


def _rules() -> tuple[Rule, ...]:
    return (
        # What the user marked private in a prompt, whatever it is; an unclosed span runs to
        # the end of its text (never a fragment kept).
        Rule(
            "private",
            r"<private>(?:(?!</private>)[\s\S]){0,40000000}(?:</private>|\Z)",
            boundary=False,
            lower=True,
        ),
        Rule(
            "private-key",
            r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
            r"(?:(?:(?!-----)[\s\S]){20,20000}?-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
            r"|(?:[A-Za-z0-9+/=\s]|\\[nr]){40,20000})",
            boundary=False,
        ),
        Rule(
            "url-credentials",
            r"://(?P<v>[^\s:/?#@'\"\[\]<>\\]{0,256}:[^\s/?#@'\"<>\\]{1,256})@",
            group="v",
            check=_url_ok,
            boundary=False,
        ),
        Rule(
            "slack-webhook",
            r"hooks\.slack\.com/(?P<v>(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,200})",
            group="v",
        ),
        Rule(
            "anthropic-key",
            r"sk-ant-(?:api|admin|oat|ort|sid)?[0-9]{0,2}-?[A-Za-z0-9_\-]{20,300}",
        ),
        Rule(
            "openai-key",
            r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,300}"
            r"|sk-[A-Za-z0-9]{32,200}(?![A-Za-z0-9_\-])",
            check=_sk_ok,
        ),
        Rule(
            "stripe-key",
            r"sk_(?:live|test)_[A-Za-z0-9]{16,247}(?!\w)",
        ),
        Rule("stripe-key", r"rk_(?:live|test)_[A-Za-z0-9]{16,247}(?!\w)"),
        Rule("stripe-key", r"whsec_[A-Za-z0-9]{24,64}(?!\w)"),
        Rule(
            "github-token",
            r"gh[pousr]_[A-Za-z0-9]{36,255}(?!\w)|github_pat_[A-Za-z0-9_]{22,255}(?!\w)",
            triggers=("gh", "github_pat_"),
        ),
        Rule(
            "gitlab-token",
            r"gl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_\-]{20,64}(?![\w-])",
        ),
        Rule(
            "slack-token",
            r"xox[abposre]-[A-Za-z0-9\-]{10,250}|xapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-f0-9]{20,80}",
            triggers=("xox", "xapp-"),
        ),
        Rule(
            "aws-access-key",
            r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[0-9A-Z]{16}(?!\w)",
            triggers=_AWS_ID_PREFIXES,
        ),
        Rule(
            "aws-secret-key",
            r"aws_?(?:secret_?(?:access_?)?key|secret)"
            + _Q
            + r"?\s{0,3}[:=]\s{0,3}"
            + _Q
            + r"?(?P<v>[a-z0-9/+]{40})(?![a-z0-9/+])",
            lower=True,
            group="v",
            boundary=False,
        ),
        Rule("google-api-key", r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
        Rule(
            "google-oauth-secret",
            r"GOCSPX-[A-Za-z0-9_\-]{20,40}(?![A-Za-z0-9_\-])",
        ),
        Rule(
            "google-oauth-token",
            r"ya29\.[A-Za-z0-9_\-]{20,2048}",
        ),
        Rule(
            "google-oauth-token",
            r"1//0[A-Za-z0-9_\-]{40,512}",
            check=lambda h: h.before() != "/",
        ),
        Rule("npm-token", r"npm_[A-Za-z0-9]{36}(?!\w)"),
        Rule(
            "npm-token",
            r":_authToken=(?P<v>[^\s\"'\\$\[]{1}[^\s\"'\\]{7,511})",
            group="v",
            boundary=False,
        ),
        Rule("pypi-token", r"pypi-Ag[A-Za-z0-9_\-]{50,500}"),
        Rule(
            "huggingface-token",
            r"hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9_])",
            check=_hf_ok,
        ),
        Rule(
            "sendgrid-key",
            r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])",
        ),
        Rule("twilio-key", r"SK[0-9a-f]{32}(?!\w)"),
        Rule(
            "azure-storage-key",
            r"accountkey=(?P<v>[a-z0-9+/]{40,120}={0,2})",
            lower=True,
            group="v",
            boundary=False,
        ),
        Rule(
            "azure-storage-key",
            r"sharedaccesskey=(?P<v>[a-z0-9+/]{40,120}={0,2})",
            lower=True,
            group="v",
            boundary=False,
        ),
        Rule(
            "jwt",
            r"eyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,8192}\.[A-Za-z0-9_\-]{0,4096}",
        ),
        Rule(
            "authorization",
            r"authorization"
            + _Q
            + r"?[ \t]{0,3}[:=][ \t]{0,3}"
            + _Q
            + r"?(?:bearer|basic|token|bot|digest)[ \t]{1,3}(?P<v>[a-z0-9._~+/=\-]{6,4096})",
            lower=True,
            group="v",
            boundary=False,
        ),
        Rule(
            "authorization",
            r"Bearer[ \t]{1,3}(?P<v>[A-Za-z0-9._~+/\-]{20,4096}=*)",
            group="v",
            check=_bearer_ok,
        ),
        Rule(
            "password",
            r"mysql(?:dump|admin)?(?![\w.-])[^\n|;&]{0,200}?"
            r"[ \t]-p(?P<q>['\"]?)(?P<v>[^\s'\"\-\[$][^\s'\"]{0,255})(?P=q)",
            group="v",
        ),
        Rule(
            "password",
            r"mariadb(?:-dump)?(?![\w.-])[^\n|;&]{0,200}?"
            r"[ \t]-p(?P<q>['\"]?)(?P<v>[^\s'\"\-\[$][^\s'\"]{0,255})(?P=q)",
            group="v",
        ),
        Rule(
            "password",
            r"sshpass[ \t](?:[^\n|;&]{0,100}?[ \t])??-p[ \t]?"
            r"(?P<q>['\"]?)(?P<v>[^\s'\"\-][^\s'\"]{0,255})(?P=q)",
            group="v",
            check=_value_ok,
        ),
        Rule(
            "password",
            r"curl[ \t][^\n|;&]{0,300}?(?:-u|--user)[ \t]{1,3}[\"']?"
            r"[^\s:\"'\[$]{1,128}:(?P<v>[^\s\"'\\]{1,256})",
            group="v",
            check=_value_ok,
        ),
        Rule(
            "password",
            r"--(?:password|passwd|pass|db-password)(?P<eq>=|[ \t]{1,3})[\"']?"
            r"(?P<v>[^\s\"'\\]{1,256})",
            group="v",
            check=_flag_ok,
            boundary=False,
        ),
        Rule(
            "secret",
            r"--(?:token|api-key|apikey|secret|client-secret|auth-token|access-token)"
            r"(?P<eq>=|[ \t]{1,3})[\"']?(?P<v>[^\s\"'\\]{1,256})",
            group="v",
            check=_flag_ok,
            boundary=False,
        ),
        *(
            Rule(
                "secret",
                f"(?P<key>{key})" + _ASSIGNMENT_VALUE,
                triggers=(key[:3],),
                lower=True,
                group="assignment",
                check=_assignment_ok,
                kind_of=_assignment_kind,
                boundary=False,
            )
            for key in _ASSIGNMENT_KEYS
        ),
    )


RULES = _rules()
