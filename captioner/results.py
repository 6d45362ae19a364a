"""Result dataclasses shared by every stage: words from the model, segments, cues."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word; ``text`` keeps Whisper's leading space stripped."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(slots=True)
class Segment:
    """A model segment (roughly a sentence) with its words, on the clip's timeline."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0


@dataclass(slots=True)
class Transcript:
    """Everything the model said about one clip, times already on the video timeline."""

    language: str
    language_probability: float
    duration: float
    segments: list[Segment] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(slots=True)
class Cue:
    """One caption on screen: its words and the lines they are broken into."""

    start: float
    end: float
    lines: list[str]
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def chars(self) -> int:
        """Visible characters, line breaks not counted (as reading-speed rules count them)."""
        return sum(len(line) for line in self.lines)
