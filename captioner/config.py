"""Settings, read from ``CAPTIONER_*`` environment variables in this one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CAPTIONER_{name}", default)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "captioner"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "captioner"


@dataclass(frozen=True)
class Settings:
    """Everything configurable; ``Settings.from_env()`` is the only reader of the environment."""

    data_dir: Path = field(default_factory=_default_data_dir)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: let CTranslate2 pick (all cores)
    beam_size: int = 5
    batch_size: int = 8  # VAD chunks decoded together (faster-whisper batched); 0: one by one
    broker_url: str = ""  # empty: filesystem broker in the data dir
    database_url: str = ""  # empty: SQLite in the data dir
    max_upload_bytes: int = 2 * 1024**3
    max_duration_s: float = 3 * 3600.0
    # A processing clip whose worker sent no heartbeat for this long is taken up again.
    stale_after_s: float = 60.0
    # A queued clip untouched this long is queued again (its message may have been lost).
    requeue_after_s: float = 300.0
    max_attempts: int = 3  # a clip that kills its worker this often is failed, not retried
    secret_key: str = ""  # empty: one is made once and kept in the data dir
    login_rate: str = "10/minute"  # per client address, Flask-Limiter syntax
    upload_rate: str = "60/hour"
    ratelimit_storage: str = ""  # empty: the Redis broker when there is one, else in memory

    def caption_options(self, **overrides: object):
        """CaptionOptions for the model and decoding settings configured here."""
        from captioner.pipeline import CaptionOptions  # the library depends on config, not back

        base = {"model": self.model, "beam_size": self.beam_size, "batch_size": self.batch_size,
                "device": self.device, "compute_type": self.compute_type,
                "cpu_threads": self.cpu_threads}
        return CaptionOptions(**{**base, **overrides})

    @property
    def broker(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def ratelimits(self) -> str:
        """Where request counts live: memory counts per web process, Redis across all."""
        if self.ratelimit_storage:
            return self.ratelimit_storage
        return self.broker_url if self.broker_url.startswith("redis") else "memory://"

    @classmethod
    def from_env(cls) -> Settings:
        d = cls()
        return cls(
            data_dir=Path(_env("DATA_DIR", str(d.data_dir))),
            cache_dir=Path(_env("CACHE_DIR", str(d.cache_dir))),
            model=_env("MODEL", d.model),
            device=_env("DEVICE", d.device),
            compute_type=_env("COMPUTE_TYPE", d.compute_type),
            cpu_threads=int(_env("CPU_THREADS", str(d.cpu_threads))),
            beam_size=int(_env("BEAM_SIZE", str(d.beam_size))),
            batch_size=int(_env("BATCH_SIZE", str(d.batch_size))),
            broker_url=_env("BROKER_URL", d.broker_url),
            database_url=_env("DATABASE_URL", d.database_url),
            max_upload_bytes=int(_env("MAX_UPLOAD_BYTES", str(d.max_upload_bytes))),
            max_duration_s=float(_env("MAX_DURATION_S", str(d.max_duration_s))),
            stale_after_s=float(_env("STALE_AFTER_S", str(d.stale_after_s))),
            requeue_after_s=float(_env("REQUEUE_AFTER_S", str(d.requeue_after_s))),
            max_attempts=int(_env("MAX_ATTEMPTS", str(d.max_attempts))),
            secret_key=_env("SECRET_KEY", d.secret_key),
            login_rate=_env("LOGIN_RATE", d.login_rate),
            upload_rate=_env("UPLOAD_RATE", d.upload_rate),
            ratelimit_storage=_env("RATELIMIT_STORAGE", d.ratelimit_storage),
        )
