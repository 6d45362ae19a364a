"""Pages for people: the clip list, the upload form and the player with its transcript.

Everything is rendered on the server (Jinja escapes all user text) and works without JS;
the scripts in ``static/`` only enhance it: live progress, upload progress, caption sync.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from captioner.config import Settings
from captioner.models import KNOWN
from captioner.store import Store
from web.api import clip_json
from web.auth import (
    can_view,
    is_owner,
    limiter,
    owned_or_403,
    producer_key,
    producer_required,
    viewer_id,
)
from web.uploads import UploadError, accept_upload, human_size

bp = Blueprint("pages", __name__)

# What the form offers; web.uploads decides what the running model can caption.
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("", "Auto-detect"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("de", "German"),
    ("pt", "Portuguese"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
    ("ar", "Arabic"),
    ("zh", "Chinese"),
)
STATUS_WORDS = {"queued": "Queued", "processing": "Captioning", "ready": "Ready",
                "failed": "Failed"}
# Stages the worker reports (static/common.js has the same words for live updates).
STAGE_WORDS = {
    "queued": "Waiting for a worker",
    "starting": "Starting",
    "probe": "Checking the file",
    "transcribing": "Transcribing",
    "done": "Building captions",
    "captions ready": "Preparing the video",
    "ready": "Ready",
    "failed": "Failed",
}
FIELDS = ("title", "language", "glossary")


def _store() -> Store:
    return current_app.extensions["store"]


@bp.app_template_filter("clock")
def clock(seconds: float | None) -> str:
    """``185.0 -> "3:05"``, ``3725 -> "1:02:05"``; rounds to the nearest second."""
    total = max(0, round(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@bp.app_context_processor
def _words() -> dict[str, object]:
    return {"status_words": STATUS_WORDS, "stage_words": STAGE_WORDS}


@bp.get("/")
def index() -> str:
    return render_template("index.html", clips=_store().list(viewer=viewer_id()))


@bp.get("/upload")
@producer_required
def upload_form() -> tuple[str, int]:
    return upload_page()


@bp.post("/upload")
@producer_required
@limiter.limit(lambda: current_app.config["SETTINGS"].upload_rate, key_func=producer_key)
def upload() -> Response | tuple[str, int]:
    """The form's no-JS path: the same checks as ``POST /api/v1/clips`` (web.uploads)."""
    form, files = request.form, request.files  # too large: web._too_large answers
    values = {k: form.get(k, "") for k in FIELDS}
    publish = form.get("publish", "")
    try:
        clip = accept_upload(files.get("file"), **values, publish=bool(publish))
    except UploadError as exc:
        return upload_page(_sentence(exc.message), exc.status, {**values, "publish": publish})
    return redirect(url_for("pages.player", clip_id=clip.id), code=303)


def upload_page(
    error: str | None = None, status: int = 200, values: dict[str, str] | None = None
) -> tuple[str, int]:
    page = render_template(
        "upload.html",
        error=error,
        languages=_languages(),
        values=values or dict.fromkeys(FIELDS, ""),
        max_bytes=_max_bytes(),
        max_size=human_size(_max_bytes()),
    )
    return page, status


def _languages() -> tuple[tuple[str, str], ...]:
    """An English-only model (tiny.en) is offered English only; web.uploads enforces it."""
    settings: Settings = current_app.config["SETTINGS"]
    known = KNOWN.get(settings.model)
    if known and known.english_only:
        return tuple(item for item in LANGUAGES if item[0] in ("", "en"))
    return LANGUAGES


def _max_bytes() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _sentence(message: str) -> str:
    """The API's lower-case message as a sentence for people: ``no file`` -> ``No file.``"""
    message = message.strip()
    if not message:
        return "The upload failed."
    message = message[0].upper() + message[1:]
    return message if message[-1] in ".!?" else message + "."


@bp.get("/clips/<clip_id>")
def player(clip_id: str) -> str:
    clip = _store().get(clip_id)
    if clip is None or not can_view(clip):
        abort(404)
    data = clip_json(clip)
    language = data["language"] or "en"
    return render_template(
        "player.html",
        clip=clip,
        links=data["links"],
        language=language,
        language_name=dict(LANGUAGES).get(language, language),
        owner=is_owner(clip),
    )


@bp.post("/clips/<clip_id>/publish")
@producer_required
def publish(clip_id: str) -> Response:
    clip = owned_or_403(_store().get(clip_id), clip_id)
    _store().set(clip.id, published=request.form.get("published") == "true")
    return redirect(url_for("pages.player", clip_id=clip.id), code=303)


@bp.errorhandler(404)
def not_found(_exc: Exception) -> tuple[str, int]:
    return render_template("not_found.html"), 404
