"""Flask application factory: pages for people, a JSON API for other systems."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from captioner.accounts import Accounts
from captioner.config import Settings
from captioner.store import Store
from web import api, auth, media_routes, pages
from web.caption_files import CaptionFastPath
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
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _secret_key(settings)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimits)
    # If Redis (broker and limit counts) is down, count in memory: uploads must still land.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    store = Store(settings.database_url, settings.data_dir)
    app.extensions["store"] = store
    auth.init_app(app, Accounts(store))
    app.extensions["celery"] = make_celery(settings)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, api.http_error)

    app.register_blueprint(pages.bp)
    app.register_blueprint(media_routes.bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.wsgi_app = CaptionFastPath(app.wsgi_app, store)  # published caption files skip Flask
    return app


def _too_large(exc: RequestEntityTooLarge) -> Response | tuple[str, int]:
    # Raised while the body streams in (often in the CSRF check, before any view runs), so
    # it is answered here: JSON for the API, the upload page with the message for people.
    limit = human_size(current_app.config["MAX_CONTENT_LENGTH"])
    if request.path.startswith("/api/"):
        response = jsonify(error={"code": "too_large",
                                  "message": f"the upload is larger than the limit of {limit}"})
        response.status_code = 413
        return response
    return pages.upload_page(f"The file is too large: the limit is {limit}.", 413)


def _secret_key(settings: Settings) -> str:
    """Signs session cookies; shared by every web process through the data dir."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # first process wins; the others read its key
        tmp.unlink()
    return path.read_text().strip()
