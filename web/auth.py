"""Who may do what: producers log in (session + CSRF) or send a Bearer token; viewers watch.

- Writes (upload, publish, delete) need a producer; API callers get 401 JSON, people are sent
  to the login page.
- A clip is visible to everyone once published, before that only to its owner: to anyone
  else it does not exist (404), so private clips leak nothing.
- CSRF (Flask-WTF) guards every unsafe request that rides on the session cookie, and the
  login form. Requests with a Bearer token carry no ambient credential, so need no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Unauthorized
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from captioner.accounts import Accounts
from captioner.store import Clip, User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask, accounts: Accounts) -> None:
    app.extensions["accounts"] = accounts
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked in _csrf below
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session's life
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    limiter.init_app(app)
    app.before_request(_csrf)
    app.register_blueprint(bp)


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Limits guard login and upload (POST); skipping reads keeps the caption hot path cheap.
    return request.method in ("GET", "HEAD", "OPTIONS")


def _accounts() -> Accounts:
    return current_app.extensions["accounts"]


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return _accounts().get(int(user_id)) if user_id.isdigit() else None


@login_manager.request_loader
def _token_user(req) -> User | None:
    token = _bearer(req)
    if token is None:
        return None
    user = _accounts().user_for_token(token)
    if user is None:
        raise Unauthorized("the API token is not valid (revoked or mistyped)")
    return user


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        raise Unauthorized("log in or send 'Authorization: Bearer <token>' (see "
                           "`captioner tokens create`)")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _bearer(req) -> str | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _csrf() -> None:
    """Only a logged-in session is an ambient credential a forged request could ride on.

    Without one the view answers 401/redirect itself; the login form checks its own token.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or _bearer(request) is not None:
        return
    if current_user.is_authenticated:
        csrf.protect()


def producer_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


def viewer_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def producer_key() -> str:
    """Rate limits count per producer (several may share one newsroom address)."""
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def can_view(clip: Clip) -> bool:
    return clip.published or is_owner(clip)


def is_owner(clip: Clip) -> bool:
    if not current_user.is_authenticated:
        return False
    return clip.owner_id is None or clip.owner_id == current_user.id  # unowned: made pre-accounts


def visible_or_404(clip: Clip | None, clip_id: str) -> Clip:
    if clip is None or not can_view(clip):
        abort(404, description=f"no clip {clip_id!r}")
    return clip


def owned_or_403(clip: Clip | None, clip_id: str) -> Clip:
    clip = visible_or_404(clip, clip_id)
    if not is_owner(clip):
        abort(403, description="only the producer who uploaded this clip may change it")
    return clip


class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SETTINGS"].login_rate, methods=["POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = _accounts().login(form.name.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")), code=303)
        flash("Wrong user name or password.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("pages.index"), code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a producer to another host after logging in."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("pages.index")
    return target
