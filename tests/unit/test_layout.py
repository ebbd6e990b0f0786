"""The floor plan holds: the import contracts in pyproject.toml are kept, and they do fail
when someone adds a forbidden import (checked on a copy of the package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        env={**os.environ, "PYTHONPATH": str(where)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "contextrecall",
        tmp_path / "contextrecall",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "broker/publish.py",
            "from contextrecall.worker import app as _app  # noqa: F401\n",
            "contextrecall.broker.publish -> contextrecall.worker",
        ),
        (
            "recall/ranking.py",
            "from contextrecall.store import parents as _parents  # noqa: F401\n",
            "contextrecall.recall.ranking -> contextrecall.store",
        ),
        (
            "store/memory_rows.py",
            "from contextrecall.recall import ranking as _ranking  # noqa: F401\n",
            "contextrecall.store.memory_rows -> contextrecall.recall",
        ),
        (
            "client/spool.py",
            "import sqlalchemy as _sqlalchemy  # noqa: F401\n",
            "contextrecall.client.spool -> sqlalchemy",
        ),
        (  # the hook reads the index: not even the read side's database loading may come in
            "recall/index/format.py",
            "from contextrecall.recall import loading as _loading  # noqa: F401\n",
            "contextrecall.recall.index.format is not allowed to import sqlalchemy",
        ),
        (  # terms is a leaf both sides import: importing the hook from it closes a cycle
            "terms.py",
            "from contextrecall import hook as _hook  # noqa: F401\n",
            "No import cycle",
        ),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    copy = copy_of_the_package(tmp_path)
    with (copy / "contextrecall" / module).open("a", encoding="utf-8") as handle:
        handle.write(line)
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and broken in result.stdout, result.stdout
