"""Producer accounts and API tokens.

Passwords are hashed with Werkzeug's scrypt (salted, slow on purpose). Tokens are 256 random
bits, so a plain SHA-256 is enough to store them: nobody can guess one to match a digest.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from captioner.errors import CaptionerError
from captioner.store import Store, Token, User

TOKEN_PREFIX = "cap_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


class AccountError(CaptionerError):
    pass


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add_user(self, name: str, password: str) -> User:
        if not NAME.match(name):
            raise AccountError("a user name is 2-64 letters, digits, '.', '_' or '-'")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
        user = User(name=name, password_hash=generate_password_hash(password))
        try:
            with self.store.session() as s:
                s.add(user)
        except IntegrityError:
            raise AccountError(f"there is already a user {name!r}") from None
        return user

    def get(self, user_id: int) -> User | None:
        with self.store.session() as s:
            return s.get(User, user_id)

    def by_name(self, name: str) -> User | None:
        with self.store.session() as s:
            return s.scalar(select(User).where(User.name == name))

    def users(self) -> list[User]:
        with self.store.session() as s:
            return list(s.scalars(select(User).order_by(User.name)))

    def login(self, name: str, password: str) -> User | None:
        user = self.by_name(name)
        if user is None:
            check_password_hash(_DUMMY_HASH, password)  # same time as a wrong password
            return None
        return user if check_password_hash(user.password_hash, password) else None

    def create_token(self, name: str, label: str = "") -> str:
        """A new token for user ``name``; the only time it exists in the clear."""
        user = self.by_name(name)
        if user is None:
            raise AccountError(f"no user {name!r}: add one with `captioner users add {name}`")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.session() as s:
            s.add(Token(user_id=user.id, digest=_digest(token), label=label[:100]))
        return token

    def user_for_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.store.session() as s:
            row = s.scalar(select(Token).where(Token.digest == _digest(token)))
            return s.get(User, row.user_id) if row else None

    def revoke_tokens(self, name: str) -> int:
        user = self.by_name(name)
        if user is None:
            raise AccountError(f"no user {name!r}")
        with self.store.session() as s:
            return s.execute(delete(Token).where(Token.user_id == user.id)).rowcount


_DUMMY_HASH = generate_password_hash("not a real password")
