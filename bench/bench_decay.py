"""Maintenance speed on 1,000,000 conversation_contexts in MariaDB (issue 6 targets).

1. Decay, first run (every score changes) vs a plain single UPDATE rewriting every row's
   score, alternated in the same run (target: at most 1.5x).
2. Decay one hour after the previous run (only rows whose rounded score moved are written)
   vs a plain UPDATE that changes nothing (a full scan), alternated (target: at most 3x).
3. Cleanup removing 1,000,000 stale rows in batches: the longest batch, i.e. the longest time
   any lock is held (target: at most 1 s).

Needs MariaDB on 127.0.0.1:3306 (root, no password); creates and drops its own database.
Rows are inserted by INSERT ... SELECT from MariaDB's sequence engine (seq_1_to_N).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import create_engine, text
from timing import isolate_from_this_machine

ADMIN = "mysql+pymysql://root@127.0.0.1:3306"
ROWS = int(os.environ.get("BENCH_DECAY_ROWS", "1000000"))
REPEATS = 3
LABELS = {
    "plain_constant": "plain UPDATE: every score to one constant",
    "plain_diverse": "plain UPDATE: every score + 1.5 (values stay diverse)",
    "decay_first": "decay, first run: every score changes",
    "plain_unchanged": "plain UPDATE changing nothing (full scan)",
    "decay_hour_later": "decay one hour after the previous run",
    "cleanup": "cleanup removing every (stale) row, in batches",
}

DIVERSE_SCORES = "0.05 + (seq * 7919 % 951) / 1000"
KINDS = (
    "ELT(1 + seq % 8, 'session_summary', 'decision', 'project_state', 'fact', 'command',"
    " 'fix', 'gotcha', 'configuration')"
)


def fill_sql(kind: str = KINDS, min_age_days: int = 0, score: str = DIVERSE_SCORES) -> str:
    """One row per sequence number, keyed by random UUID text like the application's (uuid4)
    but inserted in key order (appends, not page splits: fast), ages spread over 400 days,
    sizes, importance and the last decay's scores varied."""
    age = f"INTERVAL ({min_age_days} + seq % 400) DAY - INTERVAL (seq % 86399 + 1) SECOND"
    return f"""
INSERT INTO conversation_contexts
    (id, context_type, title, dense_summary, relevance_score, importance, created_at, updated_at)
SELECT CONCAT_WS('-', LEFT(h, 8), SUBSTR(h, 9, 4), SUBSTR(h, 13, 4), SUBSTR(h, 17, 4),
                 SUBSTR(h, 21, 12)),
       {kind}, CONCAT('session ', seq),
       CONCAT('Worked on component ', seq % 977, ': fixed the failing migration, decided to ',
              'keep MariaDB, next step is the benchmark. ', REPEAT('x', seq % 120)),
       {score}, 0.5 + (seq % 5) * 0.25, :now - {age}, :now - {age}
FROM (SELECT seq, MD5(CONCAT(seq, '-', :salt)) AS h FROM seq_1_to_{ROWS}) AS numbered
ORDER BY h
"""


CONSTANT = "UPDATE conversation_contexts SET relevance_score = :v"
DIVERSE = "UPDATE conversation_contexts SET relevance_score = relevance_score + 1.5"
UNCHANGED = "UPDATE conversation_contexts SET relevance_score = relevance_score"


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    isolate_from_this_machine()
    from contextrecall import migrate
    from contextrecall.db import get_engine
    from contextrecall.maintenance import cleanup, decay
    from contextrecall.settings import Settings

    admin = create_engine(ADMIN)
    name = f"recall_bench_decay_{uuid.uuid4().hex[:8]}"
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        settings = Settings.from_env(
            {"RECALL_HOME": f"/tmp/{name}", "RECALL_DATABASE_URL": f"{ADMIN}/{name}"}
        )
        migrate.upgrade(settings)
        engine = get_engine(settings)
        now = decay.utc_now().replace(microsecond=0)
        fill, _ = timed(lambda: _execute(engine, fill_sql(), now=now, salt=name))
        print(f"inserted {ROWS:,} conversation_contexts in {fill:.1f} s", flush=True)
        times: dict[str, list[float]] = {key: [] for key in LABELS}
        rows: dict[str, list[int]] = {"first": [], "steady": []}

        def run_decay(key: str, at: datetime) -> dict:
            seconds, result = timed(lambda: decay.decay(settings, now=at))
            times[key].append(seconds)
            rows["first" if key == "decay_first" else "steady"].append(
                result["rescored"]["conversation_contexts"]
            )
            return result

        longest = 0.0
        for i in range(REPEATS):
            # Each plain UPDATE leaves scores above 1, which decay never gives, so the decay
            # after it changes every row. One writes a constant, one keeps the scores diverse.
            times["plain_constant"].append(
                timed(lambda i=i: _execute(engine, CONSTANT, v=2 + i))[0]
            )
            longest = max(longest, run_decay("decay_first", now)["longest_batch_seconds"])
            times["plain_diverse"].append(timed(lambda: _execute(engine, DIVERSE))[0])
            longest = max(longest, run_decay("decay_first", now)["longest_batch_seconds"])
        assert set(rows["first"]) == {ROWS}, rows
        for hour in range(1, REPEATS + 1):
            times["plain_unchanged"].append(timed(lambda: _execute(engine, UNCHANGED))[0])
            run_decay("decay_hour_later", now + timedelta(hours=hour))

        # Cleanup: a fresh 1,000,000 rows, every one past the default retention policy
        # (older than 90 days, relevance below 0.1, a kind that is not kept).
        with engine.begin() as connection:  # context_tags refers to it (and is empty)
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            connection.execute(text("TRUNCATE TABLE conversation_contexts"))
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        stale = fill_sql("'session_summary'", min_age_days=91, score="0.05")
        _execute(engine, stale, now=now, salt=name)
        seconds, cleaned = timed(lambda: cleanup.cleanup(settings, now=now))
        times["cleanup"].append(seconds)
        assert cleaned["removed"]["conversation_contexts"] == ROWS, cleaned

        best = {key: min(values) for key, values in times.items()}
        print()
        print(f"{'measure (best of ' + str(REPEATS) + ' where repeated)':<60}{'seconds':>9}  all")
        for key, label in LABELS.items():
            print(f"{label:<60}{best[key]:>9.2f}  {_fmt(times[key])}")
        print(f"{'  decay batch: rows / longest':<60}{settings.decay_batch:>9,}  {longest:.3f} s")
        print(f"{'  rows rewritten one hour later':<60}{min(rows['steady']):>9,}")
        print(
            f"{'  cleanup batch: rows / longest':<60}{settings.cleanup_batch:>9,}  "
            f"{cleaned['longest_batch_seconds']:.3f} s"
        )
        print()
        middle = {key: statistics.median(values) for key, values in times.items()}
        for which, numbers in (("best", best), ("median", middle)):
            first = numbers["decay_first"]
            constant, diverse = numbers["plain_constant"], numbers["plain_diverse"]
            steady = numbers["decay_hour_later"] / numbers["plain_unchanged"]
            print(
                f"{which}: decay first run / plain rewrite {first / constant:.2f}x to one "
                f"constant, {first / diverse:.2f}x to diverse values (target <= 1.5x); "
                f"decay an hour later / plain no-op UPDATE {steady:.2f}x (target <= 3x)"
            )
        print(f"cleanup longest batch: {cleaned['longest_batch_seconds']:.3f} s (target <= 1 s)")
    finally:
        get_engine(Settings.from_env({"RECALL_DATABASE_URL": f"{ADMIN}/{name}"})).dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def _execute(engine, sql: str, **params) -> int:
    with engine.begin() as connection:
        return connection.execute(text(sql), params).rowcount


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    main()
