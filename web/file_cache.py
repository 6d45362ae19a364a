"""Small caption files kept in memory per web process, checked against the disk each time.

A stat per request is cheap; reading, hashing and streaming the file again is not. Files are
replaced by rename (never edited in place), so a changed (inode, size, mtime) means new bytes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

MAX_FILES = 512
MAX_BYTES = 2 * 1024 * 1024  # bigger files are read each time, not kept

_cache: OrderedDict[str, tuple[tuple[int, int, int], bytes, str]] = OrderedDict()
_lock = threading.Lock()


def read(path: Path) -> tuple[bytes, str]:
    """The file's bytes and a strong ETag for them."""
    st = os.stat(path)
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    key = str(path)
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == stamp:
            _cache.move_to_end(key)
            return hit[1], hit[2]
    body = path.read_bytes()
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    if len(body) <= MAX_BYTES:
        with _lock:
            _cache[key] = (stamp, body, etag)
            while len(_cache) > MAX_FILES:
                _cache.popitem(last=False)
    return body, etag
