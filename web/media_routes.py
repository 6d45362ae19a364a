"""Clip media for the player, with HTTP Range so seeking works."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort, current_app, send_file

from captioner.store import READY, Store
from web.auth import can_view

bp = Blueprint("media", __name__)


@bp.get("/media/<clip_id>")
def clip_media(clip_id: str) -> Response:
    store: Store = current_app.extensions["store"]
    clip = store.get(clip_id)
    if clip is None or not can_view(clip) or clip.status != READY or not clip.web_file:
        abort(404, description="No media source currently available")
    path = store.clip_dir(clip.id) / clip.web_file
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return send_file(path, mimetype=mimetype, conditional=True, max_age=3600)
