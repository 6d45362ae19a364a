"""Caption files over HTTP: the answer for one file, and a fast path that skips Flask for it.

Players fetch ``captions.vtt`` of a published clip far more often than anything else is
asked for. Routed through Flask (request context, session and login loaders, CSRF and limiter
hooks) each such GET cost ~0.7 ms of CPU; the WSGI fast path below answers it from one indexed
lookup and the per-process file cache. Anything it does not fully own (a private clip, which
needs the login check, or a clip with no file to send) goes on to Flask unchanged, and the
Flask view builds its answer with the same ``file_answer``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.http import parse_etags, quote_etag

from captioner.store import IN_WORK, OUTPUT_NAMES, PARTIAL_VTT, READY, Store
from web import file_cache

MIME = {"vtt": "text/vtt; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
        "json": "application/json", "txt": "text/plain; charset=utf-8"}
ROUTE_FORMAT = {"captions.vtt": "vtt", "captions.srt": "srt", "transcript.json": "json",
                "transcript.txt": "txt"}
PATH = re.compile(r"/api/v1/clips/([^/]+)/(" + "|".join(map(re.escape, ROUTE_FORMAT)) + r")")
STATUS_LINE = {200: "200 OK", 304: "304 Not Modified"}


@dataclass
class FileAnswer:
    status: int  # 200, or 304 when the client's ETag still matches
    headers: list[tuple[str, str]]
    body: bytes  # empty for 304


def caption_path(folder: Path, status: str, fmt: str) -> tuple[Path, bool] | None:
    """The file to send for a clip in ``status`` and whether it is final, or None if none."""
    if status == READY:
        return folder / OUTPUT_NAMES[fmt], True
    if status in IN_WORK and fmt == "vtt":
        return folder / PARTIAL_VTT, False  # the cues found so far
    return None


def file_answer(path: Path, fmt: str, complete: bool, accept_encoding: str,
                if_none_match: str | None) -> FileAnswer | None:
    """The answer for one caption file; None if it is not on disk (not written yet, deleted).

    The gzip copy is written once by the worker, so compression costs nothing here.
    """
    packed = path.with_name(path.name + ".gz")
    gzipped = "gzip" in accept_encoding
    try:
        body, etag = file_cache.read(packed) if gzipped else file_cache.read(path)
    except FileNotFoundError:
        if not gzipped:
            return None
        return file_answer(path, fmt, complete, "", if_none_match)
    headers = [
        ("Content-Type", MIME[fmt]),
        ("ETag", quote_etag(etag)),
        ("Vary", "Accept-Encoding"),
        ("Access-Control-Allow-Origin", "*"),  # other players may load the captions
        ("Access-Control-Expose-Headers", "ETag, X-Captions-Complete"),
        ("X-Captions-Complete", "true" if complete else "false"),
        # no-cache: keep it, but ask (ETag) before each use; a partial file changes each second.
        ("Cache-Control", "no-cache" if complete else "no-store"),
    ]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    if if_none_match and parse_etags(if_none_match).contains(etag):
        return FileAnswer(304, headers, b"")
    headers.append(("Content-Length", str(len(body))))
    return FileAnswer(200, headers, body)


class CaptionFastPath:
    """WSGI middleware: GET/HEAD of a published clip's caption file, answered without Flask.

    The clip is public, so who asks does not matter and no session or token is looked at.
    """

    def __init__(self, app: Callable, store: Store) -> None:
        self.app, self.store = app, store

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self._answer(environ) if environ["REQUEST_METHOD"] in ("GET", "HEAD") else None
        if answer is None:
            return self.app(environ, start_response)
        start_response(STATUS_LINE[answer.status], answer.headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [answer.body]

    def _answer(self, environ: dict) -> FileAnswer | None:
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        row = self.store.lookup(match[1])
        if row is None or not row.published:
            return None  # Flask answers: 404, or the owner's login check
        fmt = ROUTE_FORMAT[match[2]]
        found = caption_path(self.store.clip_dir(row.id), row.status, fmt)
        if found is None:
            return None  # Flask answers 409 with the clip's state
        return file_answer(found[0], fmt, found[1], environ.get("HTTP_ACCEPT_ENCODING", ""),
                           environ.get("HTTP_IF_NONE_MATCH"))
