"""The "raw model" baseline: faster-whisper with our exact settings, one VTT cue per segment.

No caption rules, no invented-text filter, no audio-offset handling: what a user gets by calling
faster-whisper themselves with the options we use. The decoding options come from
``captioner.transcribe.decode_options`` itself, so they cannot drift.

    python bench/raw_whisper.py CLIP OUT.vtt [--model tiny.en] [--stages STAGES.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from faster_whisper import BatchedInferencePipeline

from captioner import formats, models
from captioner.config import Settings
from captioner.results import Cue
from captioner.transcribe import TranscribeOptions, decode_options, load_model


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
    language = None if model.model.is_multilingual else "en"
    kwargs = decode_options(options, language)  # the very options captioner.transcribe uses
    engine = BatchedInferencePipeline(model) if options.batch_size > 0 else model
    print(f"{type(engine).__name__}.transcribe options: {kwargs}", flush=True)
    segments, _info = engine.transcribe(str(args.clip), **kwargs)
    cues = [Cue(s.start, s.end, [s.text.strip()]) for s in segments if s.text.strip()]
    transcribed = time.perf_counter()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    formats.write_atomic(args.out, formats.to_vtt(cues))
    if args.stages:
        seconds = {"load": loaded - clock, "transcribe": transcribed - loaded}
        args.stages.write_text(json.dumps(seconds), encoding="utf-8")


if __name__ == "__main__":
    main()
