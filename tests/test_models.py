"""Offline model resolution: bundled tiny.en, joined base, local dirs, clear errors."""

from __future__ import annotations

import shutil

import pytest

from captioner import models
from captioner.errors import ModelNotFoundError


def test_tiny_en_resolves_from_its_package(tmp_path):
    path = models.resolve("tiny.en", tmp_path)
    assert (path / "model.bin").stat().st_size == models.KNOWN["tiny.en"].size
    assert list((tmp_path / "verified").iterdir()), "the hash check is remembered"


def test_base_is_joined_once_and_verified(tmp_path):
    path = models.resolve("base", tmp_path)
    assert (path / "model.bin").stat().st_size == models.KNOWN["base"].size
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert models.resolve("base", tmp_path) == path
    assert (path / "model.bin").stat().st_mtime_ns == mtime


def test_a_local_directory_is_used_as_is(tmp_path):
    src = models.resolve("tiny.en", tmp_path)
    local = tmp_path / "mine"
    local.mkdir()
    (local / "model.bin").symlink_to(src / "model.bin")
    assert models.resolve(str(local), tmp_path) == local


def test_corrupt_weights_are_refused(tmp_path):
    fake = tmp_path / "pkg"
    shutil.copytree(models.resolve("tiny.en", tmp_path), fake)
    with (fake / "model.bin").open("r+b") as f:
        f.write(b"\0" * 16)
    with pytest.raises(ModelNotFoundError, match="SHA-256"):
        models._verify(fake / "model.bin", models.KNOWN["tiny.en"], tmp_path / "other")


@pytest.mark.parametrize("bad", ["huge-v9", "/no/such/dir"])
def test_unknown_models_name_the_choices(bad, tmp_path):
    with pytest.raises(ModelNotFoundError, match="tiny.en"):
        models.resolve(bad, tmp_path)
