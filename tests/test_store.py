"""The database as source of truth: claims, heartbeats and the recovery sweep (real SQLite)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete

from captioner.store import FAILED, PROCESSING, QUEUED, Clip, Store, now

MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Store:
    """The same tests on the embedded SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return Store("", tmp_path)
    store = Store(request.getfixturevalue("postgres_url"), tmp_path)
    with store.session() as s:  # each test starts from empty tables
        s.execute(delete(Clip))
    return store


def _clip(store: Store, **fields) -> str:
    clip = store.add(Clip(id=store.new_clip_id(), title="t", media_file="original.mp4", **fields))
    return clip.id


def test_only_one_of_many_workers_claims_a_clip(store):
    clip_id = _clip(store)
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: store.claim(clip_id, MINUTE), range(8)))
    assert wins.count(True) == 1
    assert store.get(clip_id).status == PROCESSING and store.get(clip_id).attempts == 1


def test_a_clip_with_a_dead_worker_is_claimed_again(store):
    clip_id = _clip(store, status=PROCESSING, heartbeat_at=now() - 2 * MINUTE, attempts=1)
    assert store.claim(clip_id, MINUTE)
    assert not store.claim(clip_id, MINUTE), "fresh heartbeat: the live worker keeps it"


def test_sweep_requeues_lost_and_dead_clips_and_fails_poison(store):
    lost = _clip(store, status=QUEUED, updated_at=now() - 10 * MINUTE)
    waiting = _clip(store, status=QUEUED)
    dead = _clip(store, status=PROCESSING, heartbeat_at=now() - 2 * MINUTE, attempts=1)
    alive = _clip(store, status=PROCESSING, heartbeat_at=now(), attempts=1)
    poison = _clip(store, status=PROCESSING, heartbeat_at=now() - 2 * MINUTE, attempts=3)
    again = store.sweep(MINUTE, 5 * MINUTE, max_attempts=3)
    assert sorted(again) == sorted([lost, dead])
    assert store.get(dead).status == QUEUED
    assert store.get(waiting).status == QUEUED and store.get(alive).status == PROCESSING
    assert store.get(poison).status == FAILED and "3 times" in store.get(poison).error
    assert store.sweep(MINUTE, 5 * MINUTE, max_attempts=3) == [], "touched: not swept twice"


def test_finished_clips_are_never_claimed(store):
    clip_id = _clip(store, status="ready")
    assert not store.claim(clip_id, MINUTE)


def test_delete_removes_row_and_folder(store):
    clip_id = _clip(store)
    store.clip_dir(clip_id).mkdir()
    (store.clip_dir(clip_id) / "captions.vtt").write_text("WEBVTT\n")
    assert store.delete(clip_id) and store.get(clip_id) is None
    assert not store.clip_dir(clip_id).exists()
    assert not store.delete(clip_id)


def test_only_the_current_attempt_may_finish(store):
    clip_id = _clip(store)
    assert store.claim(clip_id, MINUTE)
    assert not store.finish(clip_id, attempt=0, status="ready"), "a superseded run"
    assert store.finish(clip_id, attempt=1, status="ready")
    assert not store.finish(clip_id, attempt=1, status="failed"), "already finished"
    assert store.get(clip_id).status == "ready"
