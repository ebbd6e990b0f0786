"""LoCoMo conversations as Context Recall reads them: each session a chat transcript
(``--format chat``), for the LoCoMo benchmark and the tests that save the dev split."""

from __future__ import annotations

import json
from pathlib import Path


def session_files(conversation: dict, folder: Path) -> list[Path]:
    """The conversation's sessions written under ``folder`` as chat JSONL, one file each
    (``session_1.jsonl`` …), in the conversation's order: one turn a line, with its speaker,
    its session's date and its LoCoMo id."""
    chat = conversation["conversation"]
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for key, session in chat.items():
        if not (key.startswith("session_") and isinstance(session, list)):
            continue
        date = chat.get(f"{key}_date_time", "")
        lines = [
            {
                "role": "user",
                "speaker": turn["speaker"],
                "content": turn["text"],
                "timestamp": date,
                "id": turn["dia_id"],
            }
            for turn in session
        ]
        path = folder / f"{key}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        files.append(path)
    return files
