"""`recall demo`, the README's first command: the whole loop with no server."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_runs_the_whole_loop_on_the_embedded_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECALL_")}
    env["RECALL_HOME"] = str(tmp_path / "home")
    run = subprocess.run(
        [sys.executable, "-m", "contextrecall.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# Context Recall: memory of contextrecall/demo-shop" in run.stdout
    assert "select_related" in run.stdout  # the decision, recalled
    assert "Add a regression test for carts of 500 items" in run.stdout  # the open todo
    assert (tmp_path / "home" / "recall.db").exists()
    leftover = subprocess.run(["pgrep", "-f", f"demo-{os.getpid()}"], capture_output=True)
    assert leftover.stdout == b""  # the worker it started is gone
