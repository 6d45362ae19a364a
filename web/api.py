"""JSON API under /api/v1: upload, list, status, caption files, delete. OpenAPI in openapi.json."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    send_file,
    url_for,
)
from werkzeug.exceptions import HTTPException

from captioner.store import FAILED, READY, Clip, Store
from web.auth import (
    limiter,
    owned_or_403,
    producer_key,
    producer_required,
    viewer_id,
    visible_or_404,
)
from web.caption_files import ROUTE_FORMAT, caption_path, file_answer
from web.uploads import UploadError, accept_upload, check_title

bp = Blueprint("api", __name__)


def _store() -> Store:
    return current_app.extensions["store"]


def error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def http_error(exc: HTTPException) -> Response | HTTPException:
    """Registered app-wide: routing errors (404, 405) happen before a blueprint is chosen."""
    if not request.path.startswith("/api/"):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    return error(exc.code or 500, code, exc.description or exc.name)


def clip_json(clip: Clip) -> dict:
    files = {fmt: url_for("api.clip_file", clip_id=clip.id, name=name, _external=False)
             for name, fmt in ROUTE_FORMAT.items()}
    media = url_for("media.clip_media", clip_id=clip.id) if _playable_now(clip) else None
    return {
        "id": clip.id,
        "title": clip.title,
        "status": clip.status,
        "stage": clip.stage,
        "progress": round(clip.progress, 4),
        "cue_count": clip.cue_count,
        "error": clip.error,
        "published": clip.published,
        "language": clip.detected_language or clip.language,
        "duration": round(clip.duration, 3),
        "created_at": clip.created_at.isoformat() + "Z",
        "links": {
            "self": url_for("api.get_clip", clip_id=clip.id),
            "page": url_for("pages.player", clip_id=clip.id),
            "media": media,
            **files,
        },
    }


def _playable_now(clip: Clip) -> bool:
    return clip.status == READY and bool(clip.web_file)


def _clip_or_404(clip_id: str) -> Clip:
    return visible_or_404(_store().get(clip_id), clip_id)


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@bp.post("/clips")
@producer_required
@limiter.limit(lambda: current_app.config["SETTINGS"].upload_rate, key_func=producer_key)
def create_clip() -> Response:
    form = request.form
    try:
        clip = accept_upload(request.files.get("file"), form.get("title", ""),
                             form.get("language", ""), form.get("glossary", ""),
                             publish=_truthy(form.get("publish", "")))
    except UploadError as exc:
        return error(exc.status, exc.code, exc.message)
    response = jsonify(clip_json(clip))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_clip", clip_id=clip.id)
    return response


@bp.get("/clips")
def list_clips() -> Response:
    limit = request.args.get("limit", 100, type=int)
    offset = request.args.get("offset", 0, type=int)
    if not (1 <= limit <= 500) or offset < 0:
        return error(400, "bad_paging", "limit must be 1..500 and offset >= 0")
    clips = _store().list(limit=limit, offset=offset, query=request.args.get("q"),
                          viewer=viewer_id())
    return jsonify(clips=[clip_json(c) for c in clips], count=len(clips))


@bp.get("/clips/<clip_id>")
def get_clip(clip_id: str) -> Response:
    return jsonify(clip_json(_clip_or_404(clip_id)))


@bp.patch("/clips/<clip_id>")
@producer_required
def update_clip(clip_id: str) -> Response:
    """Publish or unpublish, retitle: ``{"published": true, "title": "..."}``."""
    clip = owned_or_403(_store().get(clip_id), clip_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.keys() <= {"published", "title"} or not body:
        return error(400, "bad_body", 'send JSON with "published" (true/false) and/or "title"')
    changes: dict[str, object] = {}
    if "published" in body:
        if not isinstance(body["published"], bool):
            return error(400, "bad_body", '"published" must be true or false')
        changes["published"] = body["published"]
    if "title" in body:
        try:
            changes["title"] = check_title(str(body["title"]), clip.title)
        except UploadError as exc:
            return error(exc.status, exc.code, exc.message)
    _store().set(clip.id, **changes)
    return jsonify(clip_json(_store().get(clip.id)))


@bp.delete("/clips/<clip_id>")
@producer_required
def delete_clip(clip_id: str) -> Response:
    owned_or_403(_store().get(clip_id), clip_id)
    _store().delete(clip_id)
    return Response(status=204)


@bp.get("/clips/<clip_id>/<any(" + ", ".join(ROUTE_FORMAT) + "):name>")
def clip_file(clip_id: str, name: str) -> Response:
    """Private clips and the cases with no file; published files are served by CaptionFastPath."""
    clip = visible_or_404(_store().lookup(clip_id), clip_id)
    fmt = ROUTE_FORMAT[name]
    if clip.status == FAILED:
        return error(409, "failed", f"captioning failed: {clip.error}")
    found = caption_path(_store().clip_dir(clip.id), clip.status, fmt)
    answer = found and file_answer(found[0], fmt, found[1],
                                   request.headers.get("Accept-Encoding", ""),
                                   request.headers.get("If-None-Match"))
    if answer:
        return Response(answer.body, status=answer.status, headers=answer.headers)
    if clip.status == READY:
        abort(404, description="the caption file is gone (the clip was deleted)")
    return error(409, "not_ready", f"captions are not ready yet ({clip.stage}, "
                 f"{clip.progress:.0%} done)")


@bp.get("/openapi.json")
def openapi() -> Response:
    return send_file(Path(__file__).parent / "openapi.json", mimetype="application/json")
