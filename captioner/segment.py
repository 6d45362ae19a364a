"""Words -> broadcast-style cues, and the style checker that grades any cue list.

The rules are DESIGN.md's "Caption style" (Netflix, BBC, FCC, DCMP). Segmentation is a scored
search: speech is cut into phrases at pauses of at least ``pause_split``; each phrase is cut into
cues by dynamic programming over break positions, and each cue's words are laid out in lines the
same way. Costs reward breaks after punctuation and at pauses and punish breaks inside units
(article+noun, names, pronoun+verb, auxiliary+negation); the timing rules enter as penalties large
enough to win whenever the audio allows. Times are worked in whole milliseconds, the resolution
of WebVTT, so the gap and duration rules still hold exactly once the cues are written out.

Rules ``check`` knows, and which of them ``segment`` guarantees:

- hard (always hold for our output, whatever the input): ``lines`` (1..max_lines lines),
  ``line_length`` (a single word longer than a line gets a line of its own and is not counted),
  ``timing`` (end after start), ``bounds`` (start >= 0, end <= clip duration), ``overlap``,
  ``gap`` (>= min_gap), ``max_duration``, ``completeness`` (every word once, in order, unchanged).
  One exception: a clip too short to hold one millisecond per cue cannot be honoured, so then
  ``gap`` gives way first and ``bounds`` last.
- soft (hold whenever the audio allows, broken only where it forces them): ``min_duration`` and
  ``cps`` (a fast speaker with no pause to borrow from), ``sync`` (start within max_lead_in of
  the first word) and ``linger`` (end at most max_linger after the last word unless the minimum
  duration, the reading speed or chaining need longer); these two give way to the hard rules
  only where word times are squeezed together, run backwards or lie past the clip's end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

from captioner.results import Cue, Word


@dataclass(frozen=True)
class CaptionStyle:
    """Caption style knobs; defaults are DESIGN.md's. Times in seconds."""

    max_line_chars: int = 42
    max_lines: int = 2
    min_duration: float = 5 / 6  # 20 frames at 24 fps
    max_duration: float = 7.0
    max_cps: float = 20.0  # characters per second, line breaks not counted
    ideal_cps: float = 17.0
    min_gap: float = 2 / 24  # two frames between cues
    chain_gap: float = 0.5  # shorter gaps are closed to min_gap ("chaining")
    max_lead_in: float = 0.1  # a cue may start this early (Whisper's word times run late)
    max_linger: float = 0.5  # a cue ends at most this after its last word, unless it must not
    pause_split: float = 0.7  # a pause this long always ends a cue
    pause_break: float = 0.25  # a pause this long makes a good break

    def __post_init__(self) -> None:
        if self.max_line_chars < 1 or self.max_lines < 1:
            raise ValueError("max_line_chars and max_lines must be at least 1")
        if not 0 < self.min_duration <= self.max_duration:
            raise ValueError("caption durations need 0 < min_duration <= max_duration")
        if self.max_cps <= 0 or self.ideal_cps <= 0 or self.pause_split <= 0:
            raise ValueError("max_cps, ideal_cps and pause_split must be positive")
        if min(self.min_gap, self.chain_gap, self.max_lead_in, self.max_linger) < 0:
            raise ValueError("gaps, lead-in and linger cannot be negative")

    @classmethod
    def from_overrides(cls, **overrides: float | None) -> CaptionStyle:
        """The defaults with the given knobs replaced; ``None`` keeps a default (unset option)."""
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown caption style setting(s): {', '.join(sorted(unknown))}")
        return cls(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


# --- where a break may go (text only) ---------------------------------------------------------

_CLOSERS = "\"')]}\u201d\u2019\u00bb"
_OPENERS = "\"'([{\u201c\u2018\u00ab"
_CLAUSE_ENDS = (",", ";", ":", "-", "\u2013", "\u2014", "\u2026", "..")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "gov", "sen", "rep", "lt", "col",
        "capt", "sgt", "maj", "cmdr", "adm", "pres", "supt", "det", "vs", "mt", "ft", "no", "vol",
        "fig", "approx", "dept", "est"
    }
)
_DETERMINERS = frozenset(
    {
        "a", "an", "the", "this", "these", "those", "my", "your", "his", "her", "its", "our",
        "their", "some", "any", "every", "each", "no", "another", "such", "several", "many", "few",
        "whose"
    }
)
_PREPOSITIONS = frozenset(
    {
        "of", "in", "on", "at", "to", "for", "from", "with", "by", "about", "into", "onto", "over",
        "under", "between", "among", "through", "during", "before", "after", "against", "along",
        "across", "around", "without", "within", "toward", "towards", "upon", "near", "since",
        "until", "via", "per", "than", "like", "despite", "behind", "beyond", "amid", "amongst",
        "off", "inside", "outside"
    }
)
_CONJUNCTIONS = frozenset(
    {
        "and", "but", "or", "nor", "so", "yet", "because", "although", "though", "while", "whereas",
        "if", "unless", "that", "which", "who", "whom", "whose", "where", "when", "whether", "as"
    }
)
_SUBJECT_PRONOUNS = frozenset({"i", "you", "he", "she", "we", "they", "it"})
_AUXILIARIES = frozenset(
    {
        "am", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has",
        "had", "will", "would", "shall", "should", "can", "could", "may", "might", "must"
    }
)
_NEGATIONS = frozenset({"not", "never", "n't"})
_CONTRACTIONS = ("'m", "'re", "'ve", "'ll", "'d", "n't", "'s")  # it's, don't, Russia's ...

# Break costs (negative: a good place). Scale: a mid-clause break costs about 1.
_SENTENCE_END = -3.0
_CLAUSE_END = -1.5
_MID_CLAUSE = 0.5
_BEFORE_LOWERCASE = 0.5  # stands in for adjective+noun, which needs no tagger to keep together
_BEFORE_LINK = -1.0  # before a conjunction or preposition
_AFTER_DETERMINER = 4.0
_AFTER_SUBJECT_OR_AUX = 3.0
_BEFORE_NEGATION = 4.0
_AFTER_PREPOSITION = 2.5
_AFTER_CONJUNCTION = 2.0
_AFTER_NEGATION = 1.5
_AFTER_NUMBER = 2.0  # "3 | million", "10 | percent"
_NAME = 4.0  # two capitalised words: a name ("John Kerry", "the Ukraine border" aside)
_NAME_AT_SENTENCE_START = 2.0  # "John Kerry said" is a name too, "Yesterday Kerry" is not
_PAUSE = -2.0  # at pause_split; a shorter pause (>= pause_break) earns a share


def _core(text: str) -> str:
    return text.rstrip(_CLOSERS)


def _bare(text: str) -> str:
    return text.strip(_OPENERS + _CLOSERS + ".,;:!?").lower().replace("\u2019", "'")


def _is_capitalised(text: str) -> bool:
    return next((ch.isupper() for ch in text if ch.isalpha()), False)


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends a sentence: ``? !`` or a full stop that is no abbreviation."""
    core = _core(text)
    if core.endswith(("?", "!")):
        return True
    if not core.endswith(".") or core.endswith(".."):  # "..." trails off: a clause, not an end
        return False
    stem = core[:-1].lstrip(_OPENERS)
    is_initial = len(stem) == 1 and stem.isalpha()  # "John F. Kennedy"
    return not ("." in stem or is_initial or stem.lower() in _ABBREVIATIONS)  # "U.S.", "Mr."


def _pair_cost(prev: str, nxt: str, prev_starts_sentence: bool) -> float:
    """Cost of a line or cue break between ``prev`` and ``nxt``."""
    if ends_sentence(prev):
        return _SENTENCE_END
    if _core(prev).endswith(_CLAUSE_ENDS):
        return _CLAUSE_END
    p, n = _bare(prev), _bare(nxt)
    cost = _MID_CLAUSE
    if p in _DETERMINERS or p.endswith("'s"):
        cost += _AFTER_DETERMINER
    if p in _SUBJECT_PRONOUNS or p in _AUXILIARIES or p.endswith(_CONTRACTIONS[:-1]):
        cost += _AFTER_SUBJECT_OR_AUX
    if n in _NEGATIONS or n.startswith("n'"):
        cost += _BEFORE_NEGATION
    if p in _NEGATIONS:
        cost += _AFTER_NEGATION
    if p in _PREPOSITIONS:
        cost += _AFTER_PREPOSITION
    if p in _CONJUNCTIONS:
        cost += _AFTER_CONJUNCTION
    if any(ch.isdigit() for ch in p) and n[:1].isalpha():
        cost += _AFTER_NUMBER
    if _is_capitalised(prev) and _is_capitalised(nxt) and p != "i":
        cost += _NAME_AT_SENTENCE_START if prev_starts_sentence else _NAME
    if n in _CONJUNCTIONS or n in _PREPOSITIONS:
        cost += _BEFORE_LINK
    elif nxt.lstrip(_OPENERS)[:1].islower():
        cost += _BEFORE_LOWERCASE
    return cost


def _text_break_costs(texts: Sequence[str]) -> list[float]:
    """``costs[k]``: cost of a break before word ``k`` (0 at both ends, where breaks are free)."""
    costs = [0.0] * (len(texts) + 1)
    for k in range(1, len(texts)):
        starts_sentence = k == 1 or ends_sentence(texts[k - 2])
        costs[k] = _pair_cost(texts[k - 1], texts[k], starts_sentence)
    return costs


# --- lines ------------------------------------------------------------------------------------

_BALANCE = 2.0  # squared deviation of a line from the mean length, in line widths
_TOP_HEAVY = 1.0  # extra for an upper line longer than the mean: prefer a bottom-heavy pyramid


class _Text:
    """Word texts with prefix widths and break costs, so any run's layout is cheap to score."""

    def __init__(self, texts: Sequence[str], costs: list[float], style: CaptionStyle) -> None:
        self.texts = texts
        self.costs = costs
        self.style = style
        self.prefix = [0]
        for text in texts:
            self.prefix.append(self.prefix[-1] + len(text))

    def width(self, a: int, b: int) -> int:
        """Length of words ``a..b-1`` joined by spaces."""
        return self.prefix[b] - self.prefix[a] + max(0, b - a - 1)

    def fits(self, a: int, b: int) -> bool:
        return b - a == 1 or self.width(a, b) <= self.style.max_line_chars

    def layout(self, a: int, b: int) -> tuple[float, list[int]] | None:
        """Cheapest layout of words ``a..b-1`` in the fewest lines that fit, or None.

        Returns the cost and the indices where lines 2.. begin. Fewest lines first: a cue is one
        line when it fits, whatever a two-line layout would score.
        """
        for n_lines in range(1, min(self.style.max_lines, b - a) + 1):
            mean = (self.width(a, b) - (n_lines - 1)) / n_lines
            found = self._split(a, b, n_lines, mean)
            if found is not None:
                return found
        return None

    def _split(self, a: int, b: int, n_lines: int, mean: float) -> tuple[float, list[int]] | None:
        if n_lines == 1:
            fits = self.fits(a, b)
            return (self._line_cost(self.width(a, b), mean, last=True), []) if fits else None
        best: tuple[float, list[int]] | None = None
        for k in range(a + 1, b - n_lines + 2):  # leave a word for each line below
            if not self.fits(a, k):
                break  # widths only grow with k
            rest = self._split(k, b, n_lines - 1, mean)
            if rest is None:
                continue
            cost = self.costs[k] + self._line_cost(self.width(a, k), mean, last=False) + rest[0]
            if best is None or cost < best[0]:
                best = (cost, [k, *rest[1]])
        return best

    def _line_cost(self, width: int, mean: float, last: bool) -> float:
        dev = (width - mean) / self.style.max_line_chars
        return _BALANCE * dev * dev + (_TOP_HEAVY * dev if dev > 0 and not last else 0.0)

    def lines(self, a: int, b: int, splits: Sequence[int]) -> list[str]:
        bounds = [a, *splits, b]
        return [" ".join(self.texts[i:j]) for i, j in zip(bounds, bounds[1:], strict=False)]


def break_lines(texts: Sequence[str], style: CaptionStyle = CaptionStyle()) -> list[str]:
    """Break one cue's words into lines: one line when it fits, else the best <= max_lines.

    Words too many for ``max_lines`` lines are wrapped greedily into more lines (the caller,
    ``segment``, never asks for that). A word longer than a line gets a line of its own.
    """
    if not texts:
        return []
    text = _Text(texts, _text_break_costs(texts), style)
    found = text.layout(0, len(texts))
    if found is not None:
        return text.lines(0, len(texts), found[1])
    starts = [0]
    for k in range(1, len(texts)):
        if not text.fits(starts[-1], k + 1):
            starts.append(k)
    return text.lines(0, len(texts), starts[1:])


# --- cues -------------------------------------------------------------------------------------

_CUE = 3.0  # per cue: fewer, fuller cues unless a better break pays for another
_CUE_BREAK_WEIGHT = 2.0  # a cue break matters more than a line break
_RULE_BROKEN = 20.0  # breaking a soft timing rule outweighs any break-quality gain ...
_SHORT_PER_S = 50.0  # ... plus this per second missing, so a shorter miss wins
_SLOW_PER_S = 1.0  # per second missing for the ideal reading speed
_MIN_CUE_MS = 1  # shortest cue legalising may leave (only squeezed word times get there)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _ms_up(seconds: float) -> int:
    """Milliseconds rounded up, for lower bounds (gap, minimum duration) that must still hold."""
    return math.ceil(seconds * 1000 - 1e-6)


@dataclass
class _Speech:
    """Word texts and cleaned word times (ms) for one ``segment`` call."""

    text: _Text
    starts: list[int]
    ends: list[int]
    end_ms: int | None  # the clip's end, if known

    @property
    def style(self) -> CaptionStyle:
        return self.text.style


def _clean_times(words: Sequence[Word], end_ms: int | None) -> tuple[list[int], list[int]]:
    """Word times in ms: finite, >= 0, starts never going back, end >= start, within the clip."""
    starts: list[int] = []
    ends: list[int] = []
    prev = 0
    for w in words:
        start = max(prev, _ms(w.start)) if math.isfinite(w.start) else prev
        end = max(start, _ms(w.end)) if math.isfinite(w.end) else start
        if end_ms is not None:
            start, end = min(start, end_ms), min(end, end_ms)
        starts.append(start)
        ends.append(end)
        prev = start
    return starts, ends


def _pause_costs(speech: _Speech) -> None:
    """Add a reward to the break costs where the speaker pauses."""
    style, reach = speech.style, speech.ends[0]
    for k in range(1, len(speech.starts)):
        pause = (speech.starts[k] - reach) / 1000
        if pause >= style.pause_break:
            speech.text.costs[k] += _PAUSE * min(1.0, pause / style.pause_split)
        reach = max(reach, speech.ends[k])


def _phrases(speech: _Speech) -> list[tuple[int, int]]:
    """Runs of words without a pause of pause_split or longer: no cue spans such a pause."""
    split_ms, bounds, reach = _ms(speech.style.pause_split), [0], speech.ends[0]
    for k in range(1, len(speech.starts)):
        if speech.starts[k] - reach >= split_ms:
            bounds.append(k)
        reach = max(reach, speech.ends[k])
    bounds.append(len(speech.starts))
    return list(zip(bounds, bounds[1:], strict=False))


def _timing_cost(speech: _Speech, a: int, b: int, chars: int, slot_end: float) -> float:
    """Penalty for cue ``a..b-1`` given the latest it may end; its start is taken as its first
    word's start (a lead-in is a bonus the search does not count on)."""
    style, start = speech.style, speech.starts[a]
    slot = (min(slot_end, start + _ms(style.max_duration)) - start) / 1000
    need = max(style.min_duration, chars / style.max_cps)
    cost = _CUE
    if slot < need:
        cost += _RULE_BROKEN + _SHORT_PER_S * (need - slot)
    ideal = chars / style.ideal_cps
    return cost + (_SLOW_PER_S * (ideal - slot) if slot < ideal else 0.0)


_Span = tuple[int, int, list[int]]  # a cue: first word, past its last word, line splits


def _cut_phrase(speech: _Speech, a: int, b: int, phrase_end: float) -> list[_Span]:
    """Best cues for words ``a..b-1``; ``phrase_end``: the latest the last cue may end (ms)."""
    text, gap, max_ms = speech.text, _ms_up(speech.style.min_gap), _ms(speech.style.max_duration)
    best = [0.0] + [math.inf] * (b - a)
    choice: list[tuple[int, list[int]]] = [(a, [])] * (b - a + 1)
    for i in range(a + 1, b + 1):
        slot_end = speech.starts[i] - gap if i < b else phrase_end
        after = _CUE_BREAK_WEIGHT * text.costs[i] if i < b else 0.0
        reach = 0
        for j in range(i - 1, a - 1, -1):
            reach = max(reach, speech.ends[j])
            if i - j > 1 and reach - speech.starts[j] > max_ms:
                break  # spans only grow as j goes back
            found = text.layout(j, i)
            if found is None:
                break  # a run that does not fit in a cue only grows too
            chars = text.width(j, i) - len(found[1])
            cost = best[j - a] + found[0] + _timing_cost(speech, j, i, chars, slot_end) + after
            if cost < best[i - a]:
                best[i - a], choice[i - a] = cost, (j, found[1])
    cues, i = [], b
    while i > a:
        j, splits = choice[i - a]
        cues.append((j, i, splits))
        i = j
    return cues[::-1]


def _cue_spans(speech: _Speech) -> list[_Span]:
    phrases = _phrases(speech)
    gap = _ms_up(speech.style.min_gap)
    spans = []
    for n, (a, b) in enumerate(phrases):
        if n + 1 < len(phrases):
            phrase_end: float = speech.starts[phrases[n + 1][0]] - gap
        else:
            phrase_end = math.inf if speech.end_ms is None else speech.end_ms
        spans += _cut_phrase(speech, a, b, phrase_end)
    return spans


def _ideal_times(speech: _Speech, spans: Sequence[tuple[int, int, int]]) -> list[list[int]]:
    """Start and end (ms) of each cue by the style rules, before the hard limits are enforced.

    ``spans``: (first word, past-last word, visible chars). A cue leads its first word by
    max_lead_in, unless the cue before needs the time for its minimum duration or reading speed;
    it lingers max_linger after its last word, or longer when those need it; a gap under
    chain_gap to the next cue is closed to min_gap.
    """
    style = speech.style
    lead, linger, gap = _ms(style.max_lead_in), _ms(style.max_linger), _ms_up(style.min_gap)
    chain, max_ms = _ms(style.chain_gap), _ms(style.max_duration)
    times: list[list[int]] = []
    start = max(0, speech.starts[spans[0][0]] - lead) if spans else 0
    for n, (a, b, chars) in enumerate(spans):
        need = _ms_up(max(style.min_duration, chars / style.max_cps))
        end = min(max(max(speech.ends[a:b]) + linger, start + need), start + max_ms)
        nxt = start  # the next cue's start; unused after the last cue
        if n + 1 < len(spans):
            first = speech.starts[spans[n + 1][0]]
            nxt = max(first - lead, 0, min(first, start + need + gap))
            if end > nxt - gap:
                end = nxt - gap
            elif nxt - end < chain:
                end = min(nxt - gap, start + max_ms)
        times.append([start, end])
        start = nxt
    return times


def _legalise(times: list[list[int]], gap: int, max_ms: int, end_ms: int | None) -> None:
    """Enforce the hard timing rules in place: start >= 0, end > start, gaps, clip end.

    Only squeezed or out-of-order word times need this. A forward pass pushes cues later, a
    backward pass pulls them back inside the clip; where the clip is too short for the gaps
    they shrink, and where it cannot hold a millisecond per cue the clip end gives way.
    """
    if end_ms is not None and end_ms < len(times) * _MIN_CUE_MS:
        end_ms = None
    if end_ms is not None and len(times) > 1:
        gap = min(gap, (end_ms - len(times) * _MIN_CUE_MS) // (len(times) - 1))
    prev_end = -gap
    for t in times:
        t[0] = max(t[0], 0, prev_end + gap)
        t[1] = min(max(t[1], t[0] + _MIN_CUE_MS), t[0] + max_ms)
        prev_end = t[1]
    if end_ms is None:
        return
    next_start = end_ms + gap
    for t in reversed(times):
        t[1] = min(t[1], next_start - gap)
        t[0] = min(t[0], t[1] - _MIN_CUE_MS)
        next_start = t[0]


def segment(
    words: Sequence[Word], style: CaptionStyle = CaptionStyle(), duration: float | None = None
) -> list[Cue]:
    """Cut ``words`` into cues by the caption style; ``duration`` is the clip's length."""
    if not words:
        return []
    end_ms = None if duration is None else max(0, math.floor(duration * 1000))
    texts = [w.text for w in words]
    starts, ends = _clean_times(words, end_ms)
    speech = _Speech(_Text(texts, _text_break_costs(texts), style), starts, ends, end_ms)
    _pause_costs(speech)
    spans = _cue_spans(speech)
    lines = [speech.text.lines(a, b, splits) for a, b, splits in spans]
    chars = [sum(len(line) for line in cue_lines) for cue_lines in lines]
    times = _ideal_times(speech, [(a, b, c) for (a, b, _), c in zip(spans, chars, strict=True)])
    _legalise(times, _ms_up(style.min_gap), _ms(style.max_duration), end_ms)
    return [
        Cue(start / 1000, end / 1000, cue_lines, list(words[a:b]))
        for (start, end), cue_lines, (a, b, _) in zip(times, lines, spans, strict=True)
    ]


# --- the checker ------------------------------------------------------------------------------

HARD_RULES = frozenset(
    {"lines", "line_length", "timing", "bounds", "overlap", "gap", "max_duration", "completeness"}
)
SOFT_RULES = frozenset({"min_duration", "cps", "sync", "linger"})
_TOL = 0.001 + 1e-9  # WebVTT times are whole milliseconds


@dataclass
class Violation:
    """One broken style rule; ``cue_index`` is -1 when no cue is to blame (no cues at all)."""

    cue_index: int
    rule: str
    detail: str

    @property
    def hard(self) -> bool:
        return self.rule in HARD_RULES


def _check_lines(i: int, cue: Cue, style: CaptionStyle) -> list[Violation]:
    found = []
    if not 1 <= len(cue.lines) <= style.max_lines:
        found.append(Violation(i, "lines", f"{len(cue.lines)} lines (1..{style.max_lines})"))
    own = {w.text for w in cue.words}
    for line in cue.lines:
        one_word = " " not in line.strip() and (not cue.words or line in own)
        if len(line) > style.max_line_chars and not one_word:
            found.append(Violation(i, "line_length", f"{len(line)} chars: {line!r}"))
    return found


def _check_times(
    i: int, cue: Cue, nxt: Cue | None, style: CaptionStyle, duration: float | None
) -> list[Violation]:
    found, length = [], cue.duration
    if length < 0.001 - 1e-9:
        found.append(Violation(i, "timing", f"ends at {cue.end:.3f}, starts at {cue.start:.3f}"))
    if cue.start < -_TOL or (duration is not None and cue.end > duration + _TOL):
        found.append(Violation(i, "bounds", f"{cue.start:.3f}-{cue.end:.3f} outside the clip"))
    if length > style.max_duration + _TOL:
        found.append(Violation(i, "max_duration", f"{length:.3f} s"))
    if length < style.min_duration - _TOL:
        found.append(Violation(i, "min_duration", f"{length:.3f} s"))
    if cue.chars > style.max_cps * (max(length, 0.0) + _TOL):
        found.append(Violation(i, "cps", f"{cue.chars} chars in {length:.3f} s"))
    if nxt is not None:
        gap = nxt.start - cue.end
        if gap < -_TOL:
            found.append(Violation(i, "overlap", f"next cue starts {-gap:.3f} s before this ends"))
        elif gap < style.min_gap - _TOL:
            found.append(Violation(i, "gap", f"{gap:.3f} s to the next cue"))
    return found


def _check_sync(i: int, cue: Cue, nxt: Cue | None, style: CaptionStyle) -> list[Violation]:
    """Start near the first word, end not long after the last (needs the cue's words)."""
    found, first = [], cue.words[0].start
    if abs(cue.start - first) > style.max_lead_in + _TOL:
        found.append(Violation(i, "sync", f"starts {cue.start - first:+.3f} s from its first word"))
    last = max(w.end for w in cue.words)
    allowed = max(last + style.max_linger, cue.start + style.min_duration,
                  cue.start + cue.chars / style.max_cps)
    if nxt is not None and nxt.start - allowed < style.chain_gap:
        allowed = max(allowed, nxt.start - style.min_gap)  # chaining closes the gap
    if cue.end > allowed + _TOL:
        found.append(Violation(i, "linger", f"ends {cue.end - last:.3f} s after its last word"))
    return found


def _check_completeness(cues: Sequence[Cue], words: Sequence[Word]) -> list[Violation]:
    """Every word once, in order, unchanged; by Word when all cues carry theirs, else by text."""
    found = [
        Violation(i, "completeness", "lines differ from the cue's words")
        for i, cue in enumerate(cues)
        if cue.words and " ".join(cue.lines) != " ".join(w.text for w in cue.words)
    ]
    by_word = all(cue.words for cue in cues)
    expected: list = list(words) if by_word else " ".join(w.text for w in words).split()
    pos = 0
    for i, cue in enumerate(cues):
        got: list = list(cue.words) if by_word else " ".join(cue.lines).split()
        if expected[pos : pos + len(got)] != got:
            return [*found, Violation(i, "completeness", f"words differ from word {pos} on")]
        pos += len(got)
    if pos != len(expected):
        return [*found, Violation(len(cues) - 1, "completeness", f"words from {pos} missing")]
    return found


def check(
    cues: Sequence[Cue],
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    duration: float | None = None,
) -> list[Violation]:
    """Grade any cue list against the style. Empty ``words``: completeness is not checked; cues
    without ``words`` (a peer's): sync and linger are not checked for them."""
    found: list[Violation] = []
    for i, cue in enumerate(cues):
        nxt = cues[i + 1] if i + 1 < len(cues) else None
        found += _check_lines(i, cue, style)
        found += _check_times(i, cue, nxt, style, duration)
        if cue.words:
            found += _check_sync(i, cue, nxt, style)
    if words:
        found += _check_completeness(cues, words)
    return found


def compliance(
    cues: Sequence[Cue],
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    duration: float | None = None,
) -> float:
    """Fraction of cues with no violation (an empty cue list: 1.0 unless words went missing)."""
    violations = check(cues, words, style, duration)
    if not cues:
        return 0.0 if violations else 1.0
    bad = {v.cue_index for v in violations}
    return sum(i not in bad for i in range(len(cues))) / len(cues)
