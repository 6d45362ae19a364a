"""Streaming audio in pieces: nothing lost, cuts in quiet places, captions unchanged."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from captioner import audio, media
from captioner.errors import MediaError
from captioner.evaluate import cues_text, sync_offsets, word_error_rate
from captioner.pipeline import CaptionOptions, caption
from captioner.segment import check
from tests.conftest import GLOSSARY, SAMPLES


def test_pieces_join_back_to_the_whole_audio():
    info = media.probe(SAMPLES / "seed-news.mp4")
    whole = media.extract_audio(info)
    parts = list(audio.pieces(info, piece_s=45))
    assert len(parts) >= 4
    assert np.array_equal(np.concatenate([p.samples for p in parts]), whole)
    starts = [p.start for p in parts]
    assert starts[0] == 0 and all(
        abs(b - (a + len(p.samples) / media.SAMPLE_RATE)) < 1e-6
        for a, b, p in zip(starts, starts[1:], parts, strict=False))


def test_cuts_fall_in_the_quietest_place():
    rate = media.SAMPLE_RATE
    loud = np.random.default_rng(0).normal(0, 0.3, 10 * rate).astype(np.float32)
    loud[7 * rate:int(7.6 * rate)] = 0.0  # a pause between 7.0 and 7.6 s
    cut = audio.quiet_point(loud, search=5 * rate)
    assert 7 * rate <= cut <= int(7.6 * rate)


def test_captions_across_piece_boundaries_lose_nothing(cache_dir, seed_ref):
    """The seed sample in one-minute pieces still meets the quality bar."""
    from captioner.config import Settings

    options = Settings(cache_dir=cache_dir).caption_options(glossary=GLOSSARY, piece_s=60)
    result = caption(SAMPLES / "seed-news.mp4", options, cache_dir)
    assert check(result.cues, result.transcript.words, duration=result.media.duration) == []
    assert word_error_rate(seed_ref.text, cues_text(result.cues)) <= 0.20


def test_a_decoder_that_goes_silent_is_stopped(monkeypatch, tmp_path):
    """A real ffmpeg that produces no audio for a while (reading a FIFO nobody writes)."""
    fifo = tmp_path / "stuck.wav"
    os.mkfifo(fifo)
    info = media.MediaInfo(fifo, "wav", 10.0, "pcm_s16le", None, 0.0)
    monkeypatch.setattr(audio, "STALL_S", 1.0)
    with pytest.raises(MediaError, match="stalled"):
        list(audio.pieces(info))


@pytest.fixture(scope="module")
def live_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """late-audio as a browser or live recorder writes it: WebM with no duration and no index."""
    out = tmp_path_factory.mktemp("live") / "live.webm"
    cmd = [media.ffmpeg_binary(), "-v", "error", "-i", str(SAMPLES / "late-audio.mp4"),
           "-c:v", "libvpx", "-b:v", "100k", "-deadline", "realtime", "-c:a", "libopus",
           "-f", "webm", "pipe:"]
    with out.open("wb") as f:
        subprocess.run(cmd, stdout=f, check=True, timeout=120)
    return out


def test_a_clip_that_declares_no_duration_is_measured(live_recording, late_ref):
    info = media.probe(live_recording)
    assert not info.duration_declared
    assert abs(info.duration - late_ref.duration) < 0.1
    assert not media.is_browser_playable(info)  # no index to seek in: the page gets a rendition


def test_captions_of_a_recording_with_no_duration_stay_on_their_words(
        live_recording, late_ref, cache_dir):
    result = caption(live_recording, CaptionOptions(glossary=GLOSSARY), cache_dir)
    assert abs(result.media.duration - late_ref.duration) < 0.1
    assert check(result.cues, result.transcript.words, duration=result.media.duration) == []
    assert max(sync_offsets(late_ref.sentence_starts, result.cues)) <= 0.3


def test_audio_longer_than_the_header_says_is_captioned_whole(monkeypatch, late_ref, cache_dir):
    """A header that understates the duration must not squeeze the captions into it."""
    real = media.probe(SAMPLES / "late-audio.mp4")
    monkeypatch.setattr(media, "probe", lambda _path: replace(real, duration=5.0))
    result = caption(SAMPLES / "late-audio.mp4", CaptionOptions(glossary=GLOSSARY), cache_dir)
    assert abs(result.media.duration - late_ref.duration) < 0.1
    assert check(result.cues, result.transcript.words, duration=result.media.duration) == []
    assert max(sync_offsets(late_ref.sentence_starts, result.cues)) <= 0.3
