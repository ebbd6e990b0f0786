"""`recall compress` as a user runs it: memory out, storing nothing; bad files rejected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RECALL = [sys.executable, "-m", "contextrecall.cli", "compress"]


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {"RECALL_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([*RECALL, *args], capture_output=True, text=True, env=env, timeout=60)


def test_compress_prints_memory_as_json_and_stores_nothing(tmp_path):
    transcript = tmp_path / "chat.jsonl"
    transcript.write_text(
        json.dumps(
            {
                "role": "user",
                "speaker": "Ana",
                "content": "We moved the launch to May 3rd",
                "timestamp": "2026-04-01T10:00:00Z",
            }
        )
        + "\n"
    )
    result = run(str(transcript), "--format", "chat", "--json", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout)
    facts = [s for s in memory["snippets"] if s["category"] == "fact"]
    assert facts and "launch to May 3rd" in facts[0]["content"]
    assert facts[0]["speaker"] == "Ana"
    assert not (tmp_path / "home" / "recall.db").exists()


def test_compress_redacts_secrets(tmp_path):
    token = "ghp_" + "Z9y8X7w6" * 5
    transcript = tmp_path / "chat.jsonl"
    transcript.write_text(json.dumps({"role": "user", "content": f"my token is {token}"}) + "\n")
    result = run(str(transcript), "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout and "[REDACTED:github-token]" in result.stdout


def test_bad_files_get_one_line_error_and_non_zero_exit(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    for target in (str(binary), str(tmp_path / "missing.jsonl"), str(tmp_path)):
        result = run(target, home=tmp_path)
        assert result.returncode != 0, target
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""
