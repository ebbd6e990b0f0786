"""The real Gemini CLI, run as a new user would: a private HOME whose
``~/.gemini/settings.json`` picks API-key sign-in, ``GOOGLE_GEMINI_BASE_URL`` naming the local
stand-in for the Gemini API (``gemini_api``), `recall install --agent gemini`, then
`gemini -p`.

The version is the one ``package.json`` here pins; ``.ci/clients`` installs it. Gemini CLI runs
hooks only in a folder the user trusts: the test's repository is trusted through
``GEMINI_CLI_TRUST_WORKSPACE``, as a user would trust theirs.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from tests.clients.claude import RUN_SECONDS, ClaudeUser, pinned_binary
from tests.clients.gemini_api import GeminiAPI

MODEL = "gemini-2.5-flash"


@dataclass
class GeminiRun:
    """One `gemini -p` run: its JSON output and the requests the model received."""

    output: dict
    requests: list[dict]

    @property
    def session_id(self) -> str:
        return str(self.output.get("session_id"))

    def first_request_text(self) -> str:
        return (
            json.dumps(self.requests[0].get("contents"), ensure_ascii=False)
            if self.requests
            else ""
        )


@dataclass
class GeminiUser(ClaudeUser):
    """A new user of Gemini CLI (and, in the same HOME, of Claude Code) with Context Recall."""

    gemini_api: GeminiAPI = field(default_factory=GeminiAPI)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.gemini_binary = pinned_binary("gemini", "Gemini CLI", "@google/gemini-cli")
        self.gemini_api.start()
        settings = self.home / ".gemini" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}))

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "GEMINI_API_KEY": "stand-in",
            "GOOGLE_GEMINI_BASE_URL": self.gemini_api.url,
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
        }

    def gemini(self, prompt: str, *args: str) -> GeminiRun:
        """``gemini -p PROMPT ARGS`` in the repository, every tool allowed (``--yolo``)."""
        before = len(self.gemini_api.requests)
        done = subprocess.run(
            [self.gemini_binary, "-m", MODEL, "--yolo", "-o", "json", *args, "-p", prompt],
            env=self.env, cwd=self.repo, capture_output=True, text=True, timeout=RUN_SECONDS,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return GeminiRun(json.loads(done.stdout), self.gemini_api.requests[before:])

    def stop(self) -> None:
        self.gemini_api.stop()
        super().stop()
