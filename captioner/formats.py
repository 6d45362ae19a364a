"""Caption and transcript files: WebVTT (webvtt-py), SRT, JSON and plain text.

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import gzip
import html
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import webvtt

from captioner import files
from captioner.results import Cue, Transcript

FORMATS = ("vtt", "srt", "json", "txt")
PARAGRAPH_PAUSE_S = 1.5  # a pause this long in speech starts a new transcript paragraph


def timestamp(seconds: float, sep: str = ".") -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt_line(text: str) -> str:
    # Cue text is markup in WebVTT: '<', '&' and '>' (so no "-->") must be escaped.
    return html.escape(text, quote=False)


def _build(cues: Sequence[Cue], escape: bool) -> webvtt.WebVTT:
    doc = webvtt.WebVTT()
    for cue in cues:
        lines = [_vtt_line(x) if escape else x.replace("-->", "->") for x in cue.lines]
        doc.captions.append(
            webvtt.Caption(start=timestamp(cue.start), end=timestamp(cue.end), text=lines)
        )
    return doc


def to_vtt(cues: Sequence[Cue]) -> str:
    return _build(cues, escape=True).content


def read_vtt(text: str) -> list[Cue]:
    """Cues from any WebVTT text (ours or a peer's); words are unknown, so left empty."""
    doc = webvtt.from_string(text)
    return [
        Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000,
            html.unescape(c.text).split("\n"), [])
        for c in doc.captions
    ]


def to_srt(cues: Sequence[Cue]) -> str:
    out = io.StringIO()
    _build(cues, escape=False).write(out, format="srt")
    text = out.getvalue()
    return text if text.endswith("\n") else text + "\n"


def to_json(transcript: Transcript, cues: Sequence[Cue], **meta: Any) -> str:
    doc = {
        **meta,
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 4),
        "duration": round(transcript.duration, 3),
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": [
                    {"start": w.start, "end": w.end, "word": w.text, "probability": w.probability}
                    for w in s.words
                ],
            }
            for s in transcript.segments
        ],
        "cues": [{"start": c.start, "end": c.end, "lines": c.lines} for c in cues],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def to_txt(transcript: Transcript) -> str:
    """Readable transcript: paragraphs break at long pauses, as a person would hear them."""
    paragraphs: list[list[str]] = []
    last_end: float | None = None
    for segment in transcript.segments:
        if last_end is None or segment.start - last_end >= PARAGRAPH_PAUSE_S:
            paragraphs.append([])
        paragraphs[-1].append(segment.text.strip())
        last_end = segment.end
    return "".join(" ".join(p) + "\n\n" for p in paragraphs).rstrip("\n") + "\n"


def render(fmt: str, transcript: Transcript, cues: Sequence[Cue], **meta: Any) -> str:
    if fmt == "vtt":
        return to_vtt(cues)
    if fmt == "srt":
        return to_srt(cues)
    if fmt == "json":
        return to_json(transcript, cues, **meta)
    if fmt == "txt":
        return to_txt(transcript)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def write_atomic(path: Path, text: str, gzipped: bool = False, durable: bool = False) -> None:
    """Write ``path`` (and ``path.gz`` when asked) so readers see the old or the new file;
    ``durable``: on disk before this returns (captions a clip's "ready" will point at)."""
    data = text.encode("utf-8")
    files.write_atomic(path, data, durable)
    if gzipped:  # compressed once here, not on every request
        files.write_atomic(path.with_name(path.name + ".gz"), gzip.compress(data, mtime=0),
                           durable)
    if durable:
        files.fsync_dir(path.parent)


def write_files(
    stem: Path, formats: Iterable[str], transcript: Transcript, cues: Sequence[Cue], **meta: Any
) -> list[Path]:
    """Write ``stem.<fmt>`` for each format; return the paths written."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        write_atomic(path, render(fmt, transcript, cues, **meta))
        written.append(path)
    return written
