"""Clips in the database (SQLAlchemy) and their files on disk: the source of truth.

Every state change is one short transaction. The broker only carries clip ids; what still
needs doing is decided here (status + heartbeat), so a lost message never loses a clip.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SCHEMA_VERSION = 2
QUEUED, PROCESSING, READY, FAILED = "queued", "processing", "ready", "failed"
IN_WORK = (QUEUED, PROCESSING)
# The files a finished clip has in its folder, by format; partial.vtt while in work.
OUTPUT_NAMES = {"vtt": "captions.vtt", "srt": "captions.srt", "json": "transcript.json",
                "txt": "transcript.txt"}
PARTIAL_VTT = "partial.vtt"


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class User(Base):
    """A producer. Viewers have no account."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    # Flask-Login's user protocol, kept here so the web layer needs no wrapper class.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class Token(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Clip(Base):
    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(300), default="")  # shown, never a path
    media_file: Mapped[str] = mapped_column(String(64))  # name inside the clip's own folder
    web_file: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    cue_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)  # requested
    detected_language: Mapped[str | None] = mapped_column(String(16), default=None)
    glossary: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    captions_version: Mapped[int] = mapped_column(Integer, default=0)  # bumps on each write
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    @property
    def in_work(self) -> bool:
        return self.status in IN_WORK


# Built once: composing the statement per request cost more than running it.
_LOOKUP = select(Clip.id, Clip.status, Clip.stage, Clip.progress, Clip.error, Clip.published,
                 Clip.owner_id).where(Clip.id == bindparam("id"))


class Store:
    """The database plus the media folder; one per process."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.clips_dir = data_dir / "clips"
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.engine = _engine(database_url or f"sqlite:///{data_dir / 'captioner.db'}")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._create_schema()

    def _create_schema(self) -> None:
        # Several processes may start at once (gunicorn workers, Celery): the loser of the
        # CREATE TABLE race sees "already exists" and simply checks again.
        for attempt in range(3):
            try:
                Base.metadata.create_all(self.engine)
                self._check_schema()
                return
            except (OperationalError, IntegrityError):
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    def _check_schema(self) -> None:
        with self.session() as s:
            row = s.get(Meta, "schema_version")
            if row is None:
                s.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
                s.flush()
                return
            if int(row.value) == 1:
                _migrate_1_to_2(s)
                row.value = "2"
            if int(row.value) != SCHEMA_VERSION:
                raise RuntimeError(
                    f"database schema {row.value}, this code needs {SCHEMA_VERSION}: migrate first"
                )

    # --- files -------------------------------------------------------------------------
    def clip_dir(self, clip_id: str) -> Path:
        return self.clips_dir / clip_id

    def new_clip_id(self) -> str:
        return uuid.uuid4().hex[:16]

    # --- reads -------------------------------------------------------------------------
    def get(self, clip_id: str) -> Clip | None:
        with self.session() as s:
            return s.get(Clip, clip_id)

    def lookup(self, clip_id: str):
        """The few columns the caption files' hot path needs: one indexed read, no ORM."""
        with self.engine.connect() as conn:
            return conn.execute(_LOOKUP, {"id": clip_id}).first()

    def list(self, limit: int = 200, offset: int = 0, query: str | None = None,
             viewer: int | None = None) -> list[Clip]:
        """Newest first: published clips, plus the viewer's own (and unowned) when logged in."""
        stmt = select(Clip).order_by(Clip.created_at.desc()).limit(limit).offset(offset)
        if viewer is None:
            stmt = stmt.where(Clip.published)
        else:
            stmt = stmt.where(Clip.published | (Clip.owner_id == viewer) | Clip.owner_id.is_(None))
        if query:
            stmt = stmt.where(Clip.title.icontains(query, autoescape=True))
        with self.session() as s:
            return list(s.scalars(stmt))

    # --- writes ------------------------------------------------------------------------
    def add(self, clip: Clip) -> Clip:
        with self.session() as s:
            s.add(clip)
        return clip

    def set(self, clip_id: str, **fields: object) -> None:
        with self.session() as s:
            s.execute(update(Clip).where(Clip.id == clip_id).values(updated_at=now(), **fields))

    def claim(self, clip_id: str, stale_after: timedelta, max_attempts: int = 3) -> bool:
        """Take a clip for processing unless a live worker has it or it is finished.

        One conditional UPDATE, so two workers given the same id never both run it.
        """
        stale = now() - stale_after
        with self.session() as s:
            result = s.execute(
                update(Clip)
                .where(Clip.id == clip_id, Clip.attempts < max_attempts)
                .where(
                    (Clip.status == QUEUED)
                    | ((Clip.status == PROCESSING) & (Clip.heartbeat_at < stale))
                )
                .values(status=PROCESSING, stage="starting", heartbeat_at=now(),
                        attempts=Clip.attempts + 1, updated_at=now(), error=None)
            )
            return result.rowcount == 1

    def finish(self, clip_id: str, attempt: int, **fields: object) -> bool:
        """Final state, written only if this run still holds the clip (no newer claim)."""
        with self.session() as s:
            result = s.execute(
                update(Clip)
                .where(Clip.id == clip_id, Clip.attempts == attempt, Clip.status == PROCESSING)
                .values(updated_at=now(), **fields)
            )
            return result.rowcount == 1

    def heartbeat(self, clip_id: str, **fields: object) -> None:
        self.set(clip_id, heartbeat_at=now(), **fields)

    def sweep(self, stale_after: timedelta, requeue_after: timedelta,
              max_attempts: int) -> list[str]:
        """Ids of clips to queue again: queued but untouched, or processing with no heartbeat.

        Clips whose worker died ``max_attempts`` times are failed instead (a poison file must
        not take down worker after worker). Returned clips are touched so the next sweep
        leaves them alone for another ``requeue_after``.
        """
        dead = now() - stale_after
        stmt = select(Clip).where(
            ((Clip.status == QUEUED) & (Clip.updated_at < now() - requeue_after))
            | ((Clip.status == PROCESSING) & (Clip.heartbeat_at < dead))
        )
        requeue: list[str] = []
        with self.session() as s:
            for clip in s.scalars(stmt.with_for_update(skip_locked=True)):
                clip.updated_at = now()
                if clip.attempts >= max_attempts:
                    clip.status, clip.stage = FAILED, "failed"
                    clip.error = f"the worker stopped {clip.attempts} times on this clip; gave up"
                else:
                    clip.status = QUEUED
                    requeue.append(clip.id)
        return requeue

    def delete(self, clip_id: str) -> bool:
        with self.session() as s:
            clip = s.get(Clip, clip_id)
            if clip is None:
                return False
            s.delete(clip)
        shutil.rmtree(self.clip_dir(clip_id), ignore_errors=True)
        return True


def _migrate_1_to_2(s: Session) -> None:
    """Accounts arrived in version 2: clips gain an owner; clips made before stay public."""
    s.execute(text("ALTER TABLE clips ADD COLUMN owner_id INTEGER REFERENCES users(id)"))


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the web app read while a worker writes; busy_timeout rides out short locks.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
