"""kombu's filesystem broker with files that appear whole or not at all.

kombu's own ``_put`` creates the message file empty, then writes it. A worker polling the
folder can move and read the file in between: it gets no JSON, Celery calls that an
unrecoverable error and the worker exits (the embedded ``captioner serve`` then stops with
it), and the message is lost. The exchange table (which queue a message goes to) has the same
gap when the web process and the worker declare the queue at the same moment, and kombu skips
writing it at all when another connection of the process declared the queue before.

Here a message is written under a name the reader skips and renamed into place once it is on
disk, and the exchange table is created whole ("[]") before kombu adds to it under its lock.
A message file that still holds no JSON (a sender that died mid-write) is logged and skipped.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps

from captioner import files

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        # Same name scheme as kombu (time-ordered), so readers of either kind take it.
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = Path(self.data_folder_out) / name
        try:
            # Written under a dot-name readers skip, flushed (a queued clip survives a power
            # cut), then renamed into place whole.
            files.write_atomic(final, dumps(payload).encode(), durable=True)
        except OSError as exc:
            raise filesystem.ChannelError(f"cannot queue a message in {final!r}") from exc

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        self._create_table(exchange)
        super()._queue_bind(exchange, routing_key, pattern, queue)

    def _create_table(self, exchange: str) -> None:
        table = self._exchange_file(exchange)
        if table.exists():
            return
        table.parent.mkdir(parents=True, exist_ok=True)
        draft = table.with_name(f".{table.name}.{uuid.uuid4().hex}")
        draft.write_text("[]")
        try:
            os.link(draft, table)  # fails if another process made it first: theirs stands
        except FileExistsError:
            pass
        finally:
            draft.unlink()

    def _get(self, queue: str) -> dict:
        while True:  # each bad file is consumed, so this ends with a message or Empty
            try:
                return super()._get(queue)
            except ValueError as exc:
                log.warning("skipped a broker message with no JSON in it: %s", exc)


class Transport(filesystem.Transport):
    Channel = Channel

    def __init__(self, client: object, **kwargs: object) -> None:
        super().__init__(client, **kwargs)
        # kombu shares one record of declared queues among all connections of a process, and
        # skips writing a binding to disk when the record has it. A connection to another
        # data dir, or a thread sending while another is still writing the binding, would then
        # send to no queue. Each connection keeps its own record and writes its own binding.
        self.state = virtual.BrokerState()
