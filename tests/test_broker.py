"""The embedded filesystem broker: real kombu on real folders, a sender and a reader at once."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from worker import fs_broker


def connect(folder: Path, transport: type) -> Connection:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return Connection(transport=transport, transport_options={
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
        "store_processed": False, "polling_interval": 0.01})


def fresh_name() -> str:
    # kombu keeps declared queues per process, not per folder: a new folder needs a new name.
    return f"q{uuid.uuid4().hex}"


def race(folder: Path, transport: type, count: int = 300) -> tuple[list[int], list[Exception]]:
    """A reader polls while a sender queues ``count`` messages; what each side saw."""
    name = fresh_name()
    received: list[int] = []
    errors: list[Exception] = []
    done = threading.Event()

    def read() -> None:
        with connect(folder, transport) as conn:
            queue = conn.SimpleQueue(name)
            while len(received) < count and not (done.is_set() and not len(queue)):
                try:
                    message = queue.get(timeout=0.05)
                except queue.Empty:
                    continue
                except Exception as exc:  # the failure under test
                    errors.append(exc)
                    continue
                received.append(message.payload["n"])
                message.ack()

    with connect(folder, transport) as conn:
        # Declared before the reader starts: kombu shares declarations between the threads of
        # a process, and one thread must not send on another's half-made binding.
        queue = conn.SimpleQueue(name)
        reader = threading.Thread(target=read)
        reader.start()
        for n in range(count):
            queue.put({"n": n, "pad": "x" * 20000})  # a long write widens the window
    done.set()
    reader.join(timeout=60)
    return received, errors


def test_a_reader_never_sees_a_message_half_written(tmp_path):
    received, errors = race(tmp_path, fs_broker.Transport)
    assert errors == [] and sorted(received) == list(range(300))
    assert not list((tmp_path / "queue").iterdir())  # no temporary file left behind


def test_a_message_file_with_no_json_is_skipped_not_fatal(tmp_path):
    with connect(tmp_path, fs_broker.Transport) as conn:
        name = fresh_name()
        queue = conn.SimpleQueue(name)
        (tmp_path / "queue" / f"1_dead.{name}.msg").write_bytes(b"")  # a sender died here
        queue.put({"n": 1})
        message = queue.get(timeout=2)
        assert message.payload == {"n": 1}
        message.ack()
        with pytest.raises(queue.Empty):
            queue.get(timeout=0.2)


def test_a_message_is_in_the_queue_folder_only_once_whole(tmp_path, monkeypatch):
    seen: list[tuple[list[str], bytes]] = []
    real_replace = fs_broker.os.replace

    def replace(src, dst):
        seen.append((sorted(p.name for p in (tmp_path / "queue").glob("*.msg")),
                     Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(fs_broker.os, "replace", replace)
    with connect(tmp_path, fs_broker.Transport) as conn:
        conn.SimpleQueue(fresh_name()).put({"n": 7})
    [(listed, body)] = seen
    assert listed == [] and json.loads(body)["body"]  # nothing to take until it is whole


def test_each_data_dir_gets_its_own_binding_in_one_process(tmp_path):
    name = fresh_name()
    with connect(tmp_path / "a", fs_broker.Transport) as conn:
        conn.SimpleQueue(name)  # declared here first: kombu alone would not write it for "b"
    with connect(tmp_path / "b", fs_broker.Transport) as conn:
        queue = conn.SimpleQueue(name)
        queue.put({"n": 2})
        assert queue.get(timeout=2).payload == {"n": 2}
    table = json.loads((tmp_path / "b" / "control" / f"{name}.exchange").read_text())
    assert table == [[name, "", name]]
