"""The spool keeps a job until the store confirms it: claimed by rename before it is sent,
kept as sent after, dropped once stored, sent again when the store still lacks it."""

from __future__ import annotations

import os
import time

import pytest

from contextrecall.client.spool import Spool


def job(n: int) -> dict:
    return {"job_id": f"job-{n}", "delta": {"sha256": f"{n:064x}"}}


def test_a_sent_job_is_kept_until_the_store_confirms_it(tmp_path):
    spool = Spool(tmp_path)
    spool.put(job(1))
    sent: list[str] = []
    assert spool.flush(lambda j: sent.append(j["job_id"])) == (1, 0)
    assert sent == ["job-1"] and len(list(spool.sent())) == 1
    # not stored yet, sent just now: kept, not sent again
    assert spool.settle(lambda sent: set(), print, resend_after=300) == (0, 0)
    assert len(list(spool.sent())) == 1
    assert spool.settle(lambda sent: set(sent), print, resend_after=300) == (1, 0)
    assert list(spool.sent()) == [] and spool.count() == 0


def test_a_sent_job_the_store_lacks_is_sent_again_once_due(tmp_path):
    spool = Spool(tmp_path)
    spool.put(job(1))
    spool.flush(lambda j: None)
    (path,) = spool.sent()
    old = time.time() - 600
    os.utime(path, (old, old))
    again: list[dict] = []
    assert spool.settle(lambda sent: set(), again.append, resend_after=300) == (0, 1)
    assert again == [job(1)]
    assert os.stat(path).st_mtime > old + 500  # the send time moved: not due again at once
    assert spool.settle(lambda sent: set(), again.append, resend_after=300) == (0, 0)


def test_two_flushes_never_send_the_same_file(tmp_path):
    spool = Spool(tmp_path)
    for n in range(3):
        spool.put(job(n))
    first, second = Spool(tmp_path), Spool(tmp_path)
    sent: list[str] = []

    def deliver_while_another_flushes(j: dict) -> None:
        sent.append(j["job_id"])
        if len(sent) == 1:  # another flush runs while the first is sending
            second.flush(lambda k: sent.append(k["job_id"]))

    first.flush(deliver_while_another_flushes)
    assert sorted(sent) == ["job-0", "job-1", "job-2"]


def test_a_job_that_could_not_be_sent_goes_back_to_the_queue(tmp_path):
    spool = Spool(tmp_path)
    spool.put(job(1))

    def broker_down(j: dict) -> None:
        raise ConnectionError("down")

    assert spool.flush(broker_down) == (0, 1)
    assert list(spool.sent()) == [] and spool.count() == 1


def test_files_another_process_removed_and_crashed_writers_temporaries(tmp_path):
    spool = Spool(tmp_path)
    spool.remove(str(tmp_path / "gone.json"))  # removed by another process: no error
    stale, fresh = tmp_path / ".a.json.tmp", tmp_path / ".b.json.tmp"
    stale.write_text("{")
    fresh.write_text("{")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert spool.sweep_temporaries() == 1
    assert not stale.exists() and fresh.exists()


def test_a_job_claimed_by_a_flush_that_died_goes_back_to_the_queue(tmp_path):
    class Watchdog(BaseException):
        pass

    def killed(j: dict) -> None:
        raise Watchdog()

    spool = Spool(tmp_path)
    spool.put(job(1))
    with pytest.raises(Watchdog):
        spool.flush(killed)  # a hook's watchdog firing mid-publish
    assert spool.count() == 1
    # a flush SIGKILLed mid-publish leaves its claim in sending/: put back once abandoned
    (path,) = spool.pending()
    claimed = tmp_path / "sending" / os.path.basename(path)
    claimed.parent.mkdir(exist_ok=True)
    os.replace(path, claimed)
    assert spool.count() == 0 and spool.reclaim() == 0  # maybe still sending
    old = time.time() - 60
    os.utime(claimed, (old, old))
    sent: list[str] = []
    assert spool.flush(lambda j: sent.append(j["job_id"])) == (1, 0)
    assert sent == ["job-1"] and len(list(spool.sent())) == 1


@pytest.mark.parametrize("fails", ["write", "fsync"])
def test_a_job_the_disk_has_no_room_for_leaves_no_temporary_file(tmp_path, monkeypatch, fails):
    spool = Spool(tmp_path / "spool")
    spool.put({"job_id": "kept"})

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    if fails == "fsync":
        monkeypatch.setattr(os, "fsync", disk_full)
    else:
        monkeypatch.setattr("contextrecall.client.spool.json.dump", disk_full)
    with pytest.raises(OSError, match="No space left"):
        spool.put({"job_id": "lost"})
    monkeypatch.undo()
    names = sorted(os.listdir(tmp_path / "spool"))
    assert len(names) == 1 and names[0].endswith("-kept.json"), names
