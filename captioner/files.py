"""Files readers never see half-written, and that outlast a power cut when asked to."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, durable: bool = False) -> None:
    """Write under a temporary name, then rename: readers see the old file or the new one.

    ``durable`` also flushes the bytes to disk before the rename (the caller fsyncs the
    folder), for files a database row will point at as done.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def fsync_dir(folder: Path) -> None:
    """Make the names created or renamed in ``folder`` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
