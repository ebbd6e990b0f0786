"""The real Codex CLI, run as a new user would: a private HOME whose ``~/.codex/config.toml``
names the local stand-in for the Responses API (``responses_api``) as its model provider,
`recall install --agent codex`, then `codex exec`.

The version is the one ``package.json`` here pins; ``.ci/clients`` installs it. Codex runs a
hook only once the user has reviewed it; `codex exec` is told to run them without review
(``--dangerously-bypass-hook-trust``), as a user who trusted them with /hooks would have.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field

from tests.clients.claude import RUN_SECONDS, ClaudeUser, pinned_binary
from tests.clients.responses_api import ResponsesAPI

MODEL = "gpt-5.1-codex"
PROVIDER = """model = "{model}"
model_provider = "stand-in"

[model_providers.stand-in]
name = "stand-in"
base_url = "{url}"
wire_api = "responses"
env_key = "STAND_IN_KEY"
"""


@dataclass
class CodexRun:
    """One `codex exec` run: its session id and the requests the model received."""

    session_id: str
    requests: list[dict]
    output: str

    def first_request_text(self) -> str:
        return (
            json.dumps(self.requests[0].get("input"), ensure_ascii=False) if self.requests else ""
        )


@dataclass
class CodexUser(ClaudeUser):
    """A new user of Codex (and, in the same HOME, of Claude Code) with Context Recall."""

    codex_api: ResponsesAPI = field(default_factory=ResponsesAPI)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.codex_binary = pinned_binary("codex", "Codex", "@openai/codex")
        self.codex_api.start()
        (self.home / ".codex").mkdir(parents=True, exist_ok=True)
        (self.home / ".codex" / "config.toml").write_text(
            PROVIDER.format(model=MODEL, url=self.codex_api.url)
        )

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "STAND_IN_KEY": "stand-in"}

    def codex(self, prompt: str, *resume: str) -> CodexRun:
        """``codex exec PROMPT`` in the repository (``resume``: ``resume SESSION``)."""
        before = len(self.codex_api.requests)
        done = subprocess.run(
            [self.codex_binary, "exec", *resume, "--skip-git-repo-check",
             "--dangerously-bypass-hook-trust", "--dangerously-bypass-approvals-and-sandbox",
             prompt],
            env=self.env, cwd=self.repo, capture_output=True, text=True, timeout=RUN_SECONDS,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        found = re.search(r"session id: (\S+)", done.stderr + done.stdout)
        assert found, done.stderr[-2000:]
        return CodexRun(found.group(1), self.codex_api.requests[before:], done.stdout)

    def stop(self) -> None:
        self.codex_api.stop()
        super().stop()
