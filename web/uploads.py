"""Accepting an upload: stream to disk, check it is captionable media, then record and queue.

Nothing is recorded until the file is known to be good, so a bad upload leaves nothing behind;
the file is on disk (fsynced) and the row committed before the caller answers 202.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import uuid
from pathlib import Path

from celery import Celery
from flask import current_app
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from captioner import files, media
from captioner.config import Settings
from captioner.errors import MediaError
from captioner.models import KNOWN
from captioner.store import Clip, Store

MAX_TITLE = 300
MAX_GLOSSARY = 5000
# Stored under a fixed name chosen from what the file *is*, never from what the user called it.
EXTENSIONS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "mp3": "mp3",
              "wav": "wav", "ogg": "ogg", "flac": "flac", "avi": "avi", "mpegts": "ts"}
STATUS_FOR_MEDIA_ERROR = {"empty": 400, "missing": 400, "no_audio": 422, "undecodable": 422,
                          "picture_too_large": 422, "limit": 422, "too_long": 413,
                          "not_media": 415, "unsupported": 415}


class UploadError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def accept_upload(file: FileStorage | None, title: str = "", language: str = "",
                  glossary: str = "", publish: bool = False) -> Clip:
    """Validate and store one upload; return the queued clip. Raises UploadError."""
    if file is None or not file.filename:
        raise UploadError(400, "missing_file", "no file: send the clip in the 'file' field")
    store: Store = current_app.extensions["store"]
    settings: Settings = current_app.config["SETTINGS"]
    # The user's file name is only ever text (a default title, a note), never a path.
    name = _plain(Path(file.filename).name)[:MAX_TITLE]
    title = check_title(title, Path(name).stem)
    language = _check_language(language, settings.model)
    if len(glossary) > MAX_GLOSSARY:
        raise UploadError(400, "glossary_too_long",
                          f"the glossary is over {MAX_GLOSSARY} characters")
    if _controls(glossary, allowed="\t\n\r"):
        raise UploadError(400, "bad_glossary", "the glossary contains control characters")
    incoming = _save_incoming(file, store.data_dir / "incoming")
    try:
        info = _probe(incoming, settings)
        clip = _record(store, incoming, info, Clip(
            title=title, original_name=name,
            language=language or None, glossary=glossary, published=publish,
            owner_id=current_user.id, duration=info.duration,
        ))
    finally:
        incoming.unlink(missing_ok=True)
    enqueue(clip.id)
    return clip


def enqueue(clip_id: str) -> None:
    """Queue by task name; if the broker is down, the worker's recovery sweep queues it later."""
    celery: Celery = current_app.extensions["celery"]
    try:
        celery.send_task("captioner.process_clip", args=[clip_id], retry=False)
    except Exception:  # noqa: BLE001 - the clip is safe in the database either way
        current_app.logger.warning("broker unavailable; clip %s waits for the sweep", clip_id)


def check_title(title: str, fallback: str) -> str:
    """One line of plain text; ``fallback`` (the file's name) when empty."""
    title = " ".join((title or "").split())
    if not title:
        title = " ".join(fallback.replace("_", " ").split())[:MAX_TITLE] or "Untitled clip"
    if len(title) > MAX_TITLE:
        raise UploadError(400, "title_too_long",
                          f"the title has {len(title)} characters; keep it to {MAX_TITLE}")
    if _controls(title):
        # NUL and escape codes: PostgreSQL refuses NUL, terminals and logs obey escapes.
        raise UploadError(400, "bad_title", "the title contains control characters; send "
                          "plain text")
    return title


def _controls(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _plain(text: str) -> str:
    """``text`` without control characters (kept for display only)."""
    return "".join(c for c in text if unicodedata.category(c) != "Cc")


def _check_language(language: str, model: str) -> str:
    language = (language or "").strip().lower()
    if language in ("", "auto"):
        return ""
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # heavy import: only when asked

    if language not in _LANGUAGE_CODES:
        raise UploadError(400, "bad_language", f"unknown language code {language!r}")
    known = KNOWN.get(model)
    if known and known.english_only and language != "en":
        raise UploadError(422, "language_unsupported",
                          f"this service runs the English-only {model} model; it cannot "
                          f"caption {language!r}")
    return language


def _save_incoming(file: FileStorage, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    with path.open("wb") as out:
        shutil.copyfileobj(file.stream, out, 1024 * 1024)  # streamed, never held in memory
        out.flush()
        os.fsync(out.fileno())
    return path


def _probe(path: Path, settings: Settings) -> media.MediaInfo:
    try:
        info = media.probe(path)
        if not info.has_audio:
            raise MediaError("the clip has no audio track to caption", "no_audio")
    except MediaError as exc:
        message = str(exc).removeprefix(f"{path.name}: ")
        raise UploadError(STATUS_FOR_MEDIA_ERROR.get(exc.kind, 415), exc.kind, message) from exc
    if info.duration > settings.max_duration_s:
        raise UploadError(413, "too_long", f"the clip lasts {_span(info.duration)}; the "
                          f"limit is {_span(settings.max_duration_s)}")
    return info


def _span(seconds: float) -> str:
    """``20 -> "20 s"``, ``185 -> "3 min 5 s"``, ``10800 -> "3 h"``: durations as people say."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts) or f"{seconds:.1f} s"


def _record(store: Store, incoming: Path, info: media.MediaInfo, clip: Clip) -> Clip:
    clip_id = store.new_clip_id()
    folder = store.clip_dir(clip_id)
    folder.mkdir(parents=True)
    name = f"original.{_extension(info)}"
    os.replace(incoming, folder / name)
    files.fsync_dir(folder)
    clip.id, clip.media_file = clip_id, name
    try:
        return store.add(clip)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)  # no half-made clip without a row
        raise


def _extension(info: media.MediaInfo) -> str:
    if info.container == "matroska,webm" and info.video_codec in (None, "vp8", "vp9", "av1") \
            and info.audio_codec in ("opus", "vorbis"):
        return "webm"
    return EXTENSIONS.get(info.container, "bin")


def human_size(n: int) -> str:
    """``2147483648 -> "2 GB"``: limits as people read them."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"
