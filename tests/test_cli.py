"""`captioner caption` on every container we promise, and clear errors on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from captioner.media import ffmpeg_binary
from tests.conftest import SAMPLES, w3c_parse

CONTAINERS = {
    "mp4": ["-c", "copy"],
    "mov": ["-c", "copy"],
    "mkv": ["-c:v", "copy", "-c:a", "libopus"],
    "webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    "mp3": ["-vn", "-c:a", "libmp3lame"],
    "wav": ["-vn", "-c:a", "pcm_s16le"],
}


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", *args], check=True, timeout=120)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short clips cut from the late-audio sample, one per container, plus bad inputs."""
    out = tmp_path_factory.mktemp("clips")
    src = SAMPLES / "late-audio.mp4"
    made: dict[str, Path] = {}
    for ext, codec in CONTAINERS.items():
        made[ext] = out / f"clip.{ext}"
        _ffmpeg("-i", str(src), "-t", "9", *codec, str(made[ext]))
    made["noaudio"] = out / "noaudio.mp4"
    _ffmpeg("-i", str(src), "-t", "3", "-an", "-c:v", "copy", str(made["noaudio"]))
    made["text"] = out / "notes.mp4"
    made["text"].write_text("Producer notes: call Kerry's office.\n" * 20)
    made["empty"] = out / "empty.mp4"
    made["empty"].touch()
    made["garbage"] = out / "garbage.mp4"
    made["garbage"].write_bytes(bytes(range(256)) * 64)
    return made


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "captioner.cli", *map(str, args)],
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("ext", list(CONTAINERS))
def test_caption_each_container(clips, ext, tmp_path):
    proc = _run("caption", clips[ext], "-o", tmp_path, "--format", "all")
    assert proc.returncode == 0, proc.stderr
    vtt = (tmp_path / "clip.vtt").read_text()
    parsed = w3c_parse(vtt)
    assert parsed["errors"] == [] and parsed["cues"], vtt
    doc = json.loads((tmp_path / "clip.json").read_text())
    assert "Kerry" in " ".join(w["word"] for s in doc["segments"] for w in s["words"])
    assert "cues" in proc.stderr and "x real time" in proc.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"clip.vtt", "clip.srt", "clip.json", "clip.txt"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("noaudio", "no audio stream"),
        ("text", "text file"),
        ("empty", "empty"),
        ("garbage", "not a media file"),
    ],
)
def test_bad_input_gives_one_clear_line(clips, name, message, tmp_path):
    proc = _run("caption", clips[name], "-o", tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_missing_file_and_unknown_model(tmp_path):
    proc = _run("caption", tmp_path / "nope.mp4")
    assert proc.returncode != 0 and "no such file" in proc.stderr
    proc = _run("caption", SAMPLES / "late-audio.mp4", "--model", "huge-v9", "-o", tmp_path)
    assert proc.returncode != 0 and "unknown model" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_english_only_model_refuses_other_language(tmp_path):
    proc = _run("caption", SAMPLES / "late-audio.mp4", "--language", "fr", "-o", tmp_path)
    assert proc.returncode != 0 and "English only" in proc.stderr


def test_serve_starts_a_program_again_when_it_exits_and_gives_up_on_one_that_keeps_failing():
    from captioner import serve

    said: list[str] = []
    flaky = [sys.executable, "-c", "import sys; sys.exit(3)"]
    steady = [sys.executable, "-c", "import time; time.sleep(60)"]
    code = serve.supervise([steady, flaky], dict(os.environ), said.append, poll_s=0.05)
    assert code == 1
    restarts = [s for s in said if "starting it again" in s]
    assert len(restarts) == serve.RESTARTS and "status 3" in restarts[0]
    assert "stopping captioner" in said[-1]
