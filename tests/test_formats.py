"""Caption file writers, on hand-made cues (pure logic)."""

from __future__ import annotations

import json

import webvtt

from captioner import formats
from captioner.results import Cue, Segment, Transcript, Word
from tests.conftest import w3c_parse


def _cues() -> list[Cue]:
    return [
        Cue(0.5, 2.0, ["Kerry said: a <b> & c --> d"], []),
        Cue(2.2, 3.9, ["second line one", "second line two"], []),
        Cue(3661.25, 3663.0, ["an hour later"], []),
    ]


def _transcript() -> Transcript:
    w = [Word(0.5, 0.9, "Hello", 0.9), Word(1.0, 1.4, "world.", 0.8), Word(4.0, 4.4, "Next.", 0.7)]
    return Transcript("en", 0.99, 5.0, [
        Segment(0.5, 1.4, "Hello world.", w[:2]),
        Segment(4.0, 4.4, "Next.", w[2:]),
    ])


def test_timestamp_formats_hours_and_millis():
    assert formats.timestamp(3661.25) == "01:01:01.250"
    assert formats.timestamp(1.5, ",") == "00:00:01,500"
    assert formats.timestamp(59.9994) == "00:00:59.999"


def test_vtt_escapes_markup_and_round_trips():
    vtt = formats.to_vtt(_cues())
    assert vtt.startswith("WEBVTT\n")
    assert "<b>" not in vtt and "-->" not in vtt.split("\n", 4)[3]
    parsed = w3c_parse(vtt)
    assert parsed["errors"] == []
    assert parsed["cues"][0]["text"] == "Kerry said: a &lt;b&gt; &amp; c --&gt; d"
    assert [c["start"] for c in parsed["cues"]] == [0.5, 2.2, 3661.25]
    again = webvtt.from_string(vtt)
    assert again.captions[1].text == "second line one\nsecond line two"


def test_srt_numbers_cues_with_comma_times():
    srt = formats.to_srt(_cues())
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == 3
    assert blocks[2].splitlines()[:2] == ["3", "01:01:01,250 --> 01:01:03,000"]
    assert "-->" not in blocks[0].splitlines()[2]


def test_json_holds_words_and_cues():
    doc = json.loads(formats.to_json(_transcript(), _cues(), model="tiny.en"))
    assert doc["model"] == "tiny.en" and doc["language"] == "en"
    assert doc["segments"][0]["words"][1] == {
        "start": 1.0, "end": 1.4, "word": "world.", "probability": 0.8,
    }
    assert len(doc["cues"]) == 3
    assert doc["cues"][1]["lines"] == ["second line one", "second line two"]


def test_txt_paragraphs_break_at_long_pauses():
    assert formats.to_txt(_transcript()) == "Hello world.\n\nNext.\n"


def test_write_files_is_atomic_and_complete(tmp_path):
    paths = formats.write_files(tmp_path / "clip", formats.FORMATS, _transcript(), _cues())
    assert sorted(p.name for p in paths) == ["clip.json", "clip.srt", "clip.txt", "clip.vtt"]
    assert not list(tmp_path.glob(".*tmp"))


def test_durable_write_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    """Captions a "ready" row points at are flushed (files and folder) before it commits."""
    import os

    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src, dst) -> None:
        assert str(src) in synced, f"{src} renamed before it was flushed"
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "captions.vtt"
    formats.write_atomic(target, "WEBVTT\n", gzipped=True, durable=True)
    assert target.read_text() == "WEBVTT\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.vtt", "captions.vtt.gz"]
    assert synced[-1] == str(tmp_path)  # the folder, so the new names survive too
