"""Flask application factory: pages for people, a JSON API for other systems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from captioner.config import Settings
from captioner.store import Store
from web import api, media_routes, pages
from web.uploads import human_size
from worker.app import make_celery


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Config from defaults, then ``CAPTIONER_*`` env (via Settings), then ``test_config``."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.from_mapping(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SECRET_KEY=None,
    )
    if test_config:
        app.config.from_mapping(test_config)
    settings = app.config["SETTINGS"]
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.extensions["store"] = Store(settings.database_url, settings.data_dir)
    app.extensions["celery"] = make_celery(settings)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, api.http_error)

    app.register_blueprint(pages.bp)
    app.register_blueprint(media_routes.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    return app


def _too_large(exc: RequestEntityTooLarge) -> Response | tuple[str, int]:
    # Raised while the body streams in, before any view runs: answer in the caller's language.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    message = f"the upload is larger than the limit of {human_size(limit)}"
    if request.path.startswith("/api/"):
        response = jsonify(error={"code": "too_large", "message": message})
        response.status_code = 413
        return response
    return message, 413

