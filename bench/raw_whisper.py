"""The "raw model" baseline: faster-whisper with our exact settings, one VTT cue per segment.

No caption rules, no invented-text filter, no audio-offset handling: what a user gets by calling
``WhisperModel.transcribe`` themselves with the options we use. The decoding options are taken
from ``captioner.transcribe`` itself (recorded from the call it makes), so they cannot drift.

    python bench/raw_whisper.py CLIP OUT.vtt [--model tiny.en] [--stages STAGES.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from captioner import formats, models
from captioner.config import Settings
from captioner.results import Cue
from captioner.transcribe import TranscribeOptions, load_model, transcribe


class _Recorder:
    """Stands in for WhisperModel to capture the keyword arguments our code passes it."""

    def __init__(self, multilingual: bool) -> None:
        self.model = SimpleNamespace(is_multilingual=multilingual)
        self.kwargs: dict[str, Any] = {}

    def transcribe(self, _audio: Any, **kwargs: Any) -> tuple[list, Any]:
        self.kwargs = kwargs
        return [], SimpleNamespace(language=kwargs.get("language") or "", language_probability=1.0)


def our_transcribe_kwargs(multilingual: bool, options: TranscribeOptions) -> dict[str, Any]:
    """The exact ``model.transcribe`` keyword arguments that captioner.transcribe uses."""
    recorder = _Recorder(multilingual)
    silence = np.zeros(16_000, dtype=np.float32)
    list(transcribe(recorder, silence, options))  # type: ignore[arg-type]
    if not recorder.kwargs:
        raise RuntimeError("captioner.transcribe did not call model.transcribe")
    return recorder.kwargs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default=None, help="default: CAPTIONER_MODEL or tiny.en")
    parser.add_argument("--stages", type=Path, default=None, help="write per-stage seconds here")
    args = parser.parse_args()

    settings = Settings.from_env()
    clock = time.perf_counter()
    model_dir = models.resolve(args.model or settings.model, settings.cache_dir)
    model = load_model(str(model_dir), settings.device, settings.compute_type,
                       settings.cpu_threads)
    loaded = time.perf_counter()

    options = TranscribeOptions(beam_size=settings.beam_size)
    kwargs = our_transcribe_kwargs(model.model.is_multilingual, options)
    print(f"model.transcribe options: {kwargs}", flush=True)
    segments, _info = model.transcribe(str(args.clip), **kwargs)
    cues = [Cue(s.start, s.end, [s.text.strip()]) for s in segments if s.text.strip()]
    transcribed = time.perf_counter()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    formats.write_atomic(args.out, formats.to_vtt(cues))
    if args.stages:
        seconds = {"load": loaded - clock, "transcribe": transcribed - loaded}
        args.stages.write_text(json.dumps(seconds), encoding="utf-8")


if __name__ == "__main__":
    main()
