"""Build the sample news clips in ``samples/`` and their reference transcripts.

Run from the repository root::

    .venv/bin/python samples/build.py

Needs ``espeak-ng`` and ``ffmpeg`` on PATH, and ``numpy`` + ``av`` (PyAV) in the venv.

Every sentence is synthesised to its own WAV with espeak-ng, trimmed to where its speech really
starts and ends, and laid on a timeline with known silences, so each sentence's start/end in the
reference is exact to a few milliseconds. The audio is muxed with a still 640x360 title slate
(H.264 + AAC, ``+faststart``). Outputs, per clip ``<name>``:

- ``<name>.mp4``       the clip;
- ``<name>.ref.json``  title, duration, text, sentences (start, end, text, voice), no_speech
                       stretches, audio_start (video timeline, seconds);
- ``<name>.txt``       the reference text, paragraphs separated by blank lines.

Clips: ``seed-news`` (the seed story in three voices, ~3:05, with 8 s of music-like tone and no
speech in the middle) and ``late-audio`` (a short clip whose audio stream starts 2 s after its
video stream). The build checks its own outputs (codecs, start times, durations, levels) and
fails loudly if one is off.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

SAMPLES = Path(__file__).resolve().parent
RATE = 22050  # espeak-ng's native output rate; kept for the AAC track
FPS = 10
SIZE = "640x360"
BACKGROUND = "0x14202e"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)

# espeak-ng voice and pitch per speaker (only the built-in voices; no mbrola).
VOICES: dict[str, tuple[str, int]] = {
    "anchor": ("en-us", 40),
    "kerry": ("en-us+m2", 50),
    "lavrov": ("en-gb-x-rp", 40),
    "presenter": ("en-us+f3", 50),
    "correspondent": ("en-gb-scotland", 45),
    "forecaster": ("en-us-nyc", 55),
}

# Silences on the timeline, in seconds.
LEAD_IN = 0.5
TAIL = 1.0
SENTENCE_GAP = 0.3
VOICE_CHANGE_GAP = 0.4
PARAGRAPH_GAP = 1.2
TONE_SECONDS = 8.0
EDGE_PAD = 0.02  # near-silent audio kept either side of a trimmed sentence
TRIM_THRESHOLD = 10 ** (-48 / 20)  # |sample| below -48 dBFS counts as espeak's padding

SEED_TARGET = 185.0  # seconds; the real clip runs 3:05
SEED_TOLERANCE = 2.5
LATE_AUDIO_OFFSET = 2.0
# ffmpeg's AAC encoder primes 1024 samples. ffmpeg's MP4 muxer can skip them with an edit list
# only when the track starts at 0; after an empty edit it plays them, so the audio's content
# lands at the -itsoffset value while the stream's start_time is that minus the priming.
AAC_PRIMING = 1024
LATE_SPEED = 160

# A paragraph is a list of (speaker, text) runs; quoted speech is its speaker's own run.
Paragraph = list[tuple[str, str]]

SEED_TITLE = "US, Russia At Odds on Ukraine"
SEED_TONE_AFTER = 7  # paragraphs spoken before the music-like stretch
SEED_STORY: list[Paragraph] = [
    [("anchor", "U.S. Secretary of State John Kerry is calling on Russia to pull back thousands "
      "of troops along the Ukraine border, saying those forces are creating a \"climate of "
      "fear\" that does not support diplomatic dialogue. Secretary Kerry met late Sunday in "
      "Paris with Russian Foreign Minister Sergei Lavrov.")],
    [("anchor", "Despite different views of events that led to this crisis, Kerry said the "
      "United States and Russia agree on the importance of finding a diplomatic solution, and "
      "that both made suggestions about how to de-escalate the security and political "
      "situation.")],
    [("kerry", "\"We also agreed to work with the Ukrainian government and the people to "
      "implement the steps that they are taking to ensure the following priorities: the rights "
      "of national minorities, language rights, demobilization and disarmament of irregular "
      "forces and provocateurs, an inclusive constitutional reform process and free and fair "
      "elections monitored by the international community,\""),
     ("anchor", "said Kerry.")],
    [("anchor", "But Kerry added that any real progress must include a pullback of 40,000 "
      "Russian troops massing along Ukraine's borders.")],
    [("kerry", "\"We believe that these forces are creating a climate of fear and intimidation "
      "in Ukraine. It certainly does not create the climate that we need for the dialogue,\""),
     ("anchor", "said Kerry.")],
    [("anchor", "Following four hours of talks, Lavrov held a separate Paris news conference "
      "and read from a nearly identical statement on their agreed priorities. But instead of "
      "Russian troops, he focused on decentralizing power to protect minorities -- concerns "
      "that Moscow has used to justify annexing the Crimean peninsula.")],
    [("anchor", "Within this framework, Lavrov said, all regions and political forces will "
      "have an equal voice to agree on which kind of political, economic, financial, social and "
      "religious traditions will be respected in different parts of the country.")],
    [("anchor", "Kerry said the United States still considers Russian actions in Crimea "
      "\"illegal and illegitimate,\" and rejects any attempt to outline new federal structures "
      "without including provisional authorities in Kyiv.")],
    [("kerry", "\"We will not accept a path forward where the legitimate government of Ukraine "
      "is not at the table. This principle is clear: No decisions about Ukraine without "
      "Ukraine,\""),
     ("anchor", "said Kerry.")],
    [("anchor", "U.S. officials said they saw in these talks some increased acknowledgement "
      "from Russia that Ukraine is meeting some of its concerns about minority rights in "
      "Russian-speaking areas. That may be a way for the Kremlin to justify pulling back some of "
      "its troops.")],
    [("anchor", "Washington now believes Moscow is using those troops not only to intimidate "
      "Ukrainians but also as a bargaining chip with Europe and the United States in the most "
      "serious East-West standoff since the end of the Cold War.")],
    [("anchor", "Western leaders are considering broader sanctions against Russia that could "
      "target its oil and gas industry. Obama administration officials have said it is clear "
      "those sanctions are biting, and equally clear that Russia does not want more of them.")],
    [("anchor", "In an interview on state television, Lavrov dismissed the Western visa bans "
      "and asset freezes on allies of President Vladimir Putin.")],
    [("lavrov", "\"I don't want to say they are laughable,\""),
     ("anchor", "Lavrov said."),
     ("lavrov", "\"I don't want to say that we don't care. They are unpleasant. But the fact "
      "they try to take those sanctions on a more personal level and present them as directed "
      "at certain people personally is clearly a desire to take revenge.\"")],
    [("anchor", "Following these talks, Kerry looks to keep the pressure on Russia at this "
      "week's meeting of NATO foreign ministers, with President Obama calling on the "
      "trans-Atlantic alliance to station more troops in countries \"that may feel "
      "vulnerable.\"")],
]

# Broadcast news is read at about 160 words a minute (~17 characters a second), which captions
# can follow at the 20 characters/s limit. Read at that pace the whole story runs ~3:50, so to
# keep the clip at 3:05 three background paragraphs are left out, as the TV version of a web
# story does.
SEED_LEFT_OUT = (9, 10, 11)  # "U.S. officials said...", "Washington now...", "Western leaders..."
SEED_SPOKEN = [p for i, p in enumerate(SEED_STORY) if i not in SEED_LEFT_OUT]
SPEED_RANGE = (150, 170)  # words a minute allowed when fitting the clip to SEED_TARGET

LATE_TITLE = "Kerry Urges Russian Troop Pullback"
LATE_STORY: list[Paragraph] = [SEED_STORY[0], SEED_STORY[3]]

# A bulletin of short items in other voices, so WER is not judged on one story and one voice.
# The items are written for this sample (places are real, the events are not).
BRIEF_TITLE = "World News Brief"
BRIEF_SPEED = 165
BRIEF_STORY: list[Paragraph] = [
    [("presenter", "Good evening. Here is the world news in brief. Flood waters are rising "
      "again in eastern Kenya, where two weeks of heavy rain have forced thousands of families "
      "from their homes.")],
    [("correspondent", "\"Farmers here waited three years for rain like this. Now the fields "
      "are green, but the roads to the markets are still under water, and the price of maize "
      "has doubled in a month,\""),
     ("presenter", "our correspondent reported from Garissa.")],
    [("presenter", "The Red Cross says it has flown tents, water filters and medicine to the "
      "region, and has asked donors for another twelve million dollars to keep clinics open "
      "until the end of the rainy season.")],
    [("presenter", "In Europe, transport workers in Portugal held a second day of strikes over "
      "pay. Trains between Lisbon and Porto were cancelled, and the airport in Lisbon warned "
      "travellers to expect long delays through the weekend.")],
    [("presenter", "Scientists in Chile say a new telescope in the Atacama Desert has "
      "recorded its first images, showing a cluster of young stars about four thousand light "
      "years from Earth. The observatory will share its data with universities in eleven "
      "countries.")],
    [("presenter", "Now the weather, with a look at the storms moving across the central "
      "United States.")],
    [("forecaster", "A line of strong thunderstorms will cross Kansas and Missouri tonight, "
      "with winds of up to seventy miles an hour and the risk of hail. By Thursday morning the "
      "storms reach the Ohio Valley, and temperatures behind them fall by twenty degrees. The "
      "weekend looks dry and sunny for most of the country.")],
    [("presenter", "And finally, the city of Osaka has opened a library that never closes. "
      "Readers can borrow books at any hour from a machine at the entrance, and more than "
      "nine hundred people signed up on the first night. That is the news for now.")],
]

ABBREVIATION = re.compile(r"(?:\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep)\.)$")


@dataclass
class Timeline:
    """Mono float32 audio under construction, with the sentences placed on it."""

    chunks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    sentences: list[dict] = field(default_factory=list)
    no_speech: list[list[float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.samples / RATE

    def add(self, audio: np.ndarray) -> None:
        self.chunks.append(audio.astype(np.float32))
        self.samples += len(audio)

    def silence(self, seconds: float) -> None:
        self.add(np.zeros(round(seconds * RATE), dtype=np.float32))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


def split_sentences(text: str) -> list[str]:
    """Split a run of text into sentences, keeping closing quotes and abbreviations intact."""
    pieces = re.split(r"(?<=[.!?][\"”])\s+|(?<=[.!?])\s+(?=[\"“]?[A-Z])", text.strip())
    sentences: list[str] = []
    for piece in pieces:
        if sentences and ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def synthesise(text: str, speaker: str, speed: int, workdir: Path) -> np.ndarray:
    """Speak one sentence with espeak-ng; return float32 samples at RATE (cached on disk)."""
    voice, pitch = VOICES[speaker]
    spoken = text.replace('"', "").replace("“", "").replace("”", "")
    key = hashlib.sha1(f"{voice}|{pitch}|{speed}|{spoken}".encode()).hexdigest()[:16]
    path = workdir / f"{key}.wav"
    if not path.exists():
        cmd = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(path)]
        subprocess.run([*cmd, spoken], check=True, capture_output=True)
    with wave.open(str(path)) as wav:
        if wav.getframerate() != RATE or wav.getnchannels() != 1:
            raise RuntimeError(f"espeak-ng wrote {wav.getframerate()} Hz x{wav.getnchannels()}")
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    return data.astype(np.float32) / 32768.0


def speech_bounds(audio: np.ndarray) -> tuple[int, int]:
    """First and one-past-last sample louder than the trim threshold."""
    loud = np.flatnonzero(np.abs(audio) > TRIM_THRESHOLD)
    if not len(loud):
        raise RuntimeError("espeak-ng produced silence")
    return int(loud[0]), int(loud[-1]) + 1


def place_sentence(tl: Timeline, text: str, speaker: str, speed: int, workdir: Path,
                   paragraph: int) -> None:
    """Trim a synthesised sentence and append it, recording its exact speech span."""
    audio = synthesise(text, speaker, speed, workdir)
    start, end = speech_bounds(audio)
    pad = round(EDGE_PAD * RATE)
    lo, hi = max(0, start - pad), min(len(audio), end + pad)
    speech_start = tl.samples + (start - lo)
    tl.add(audio[lo:hi])
    tl.sentences.append({
        "start": round(speech_start / RATE, 3),
        "end": round((speech_start + end - start) / RATE, 3),
        "text": text,
        "voice": speaker,
        "paragraph": paragraph,
    })


def music_tone(seconds: float) -> np.ndarray:
    """A soft A-major chord with slow tremolo and fades: music-like, no speech."""
    t = np.arange(round(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63, 440.0)) / 4
    tremolo = 0.75 + 0.25 * np.sin(2 * np.pi * 1.5 * t)
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.25)
    return (0.2 * chord * tremolo * fade).astype(np.float32)


def build_timeline(story: list[Paragraph], speed: int, workdir: Path,
                   tone_after: int | None = None) -> Timeline:
    """Lay out every sentence of the story with the gaps (and optional tone) between them."""
    tl = Timeline()
    tl.silence(LEAD_IN)
    for p_index, paragraph in enumerate(story):
        if p_index:
            tl.silence(PARAGRAPH_GAP)
            if p_index == tone_after:
                tone_start = tl.seconds
                tl.add(music_tone(TONE_SECONDS))
                tl.no_speech.append([tone_start, tl.seconds])
                tl.silence(PARAGRAPH_GAP)
        previous = None
        for speaker, run in paragraph:
            for sentence in split_sentences(run):
                if previous is not None:
                    tl.silence(SENTENCE_GAP if speaker == previous else VOICE_CHANGE_GAP)
                place_sentence(tl, sentence, speaker, speed, workdir, p_index)
                previous = speaker
    tl.silence(TAIL)
    whole_frames = -(-tl.samples * FPS // RATE)  # pad to a whole number of video frames
    tl.silence((whole_frames * RATE // FPS - tl.samples) / RATE)
    return tl


def tune_speed(story: list[Paragraph], workdir: Path, tone_after: int) -> int:
    """Find the espeak-ng speed (words/min) whose timeline lands nearest SEED_TARGET."""
    first = build_timeline(story, 190, workdir, tone_after)
    speech = sum(s["end"] - s["start"] for s in first.sentences)
    fixed = first.seconds - speech  # silences and tone do not scale with speed
    speed, tried = round(190 * speech / (SEED_TARGET - fixed)), {190: first.seconds}
    while speed not in tried:
        tried[speed] = build_timeline(story, speed, workdir, tone_after).seconds
        speed += 1 if tried[speed] > SEED_TARGET else -1
        if len(tried) > 60:
            break
    in_range = {s: t for s, t in tried.items() if SPEED_RANGE[0] <= s <= SPEED_RANGE[1]}
    best = min(in_range or tried, key=lambda s: abs(tried[s] - SEED_TARGET))
    if abs(tried[best] - SEED_TARGET) > SEED_TOLERANCE or best not in in_range:
        raise RuntimeError(f"no speed lands near {SEED_TARGET}s: {tried}")
    return best


def write_wav(path: Path, audio: np.ndarray) -> None:
    """Write float audio as 16-bit mono PCM."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())


def slate_filter(title: str, workdir: Path) -> list[str]:
    """drawtext arguments for the title slate, or none when no font is installed."""
    font = next((f for f in FONT_CANDIDATES if Path(f).exists()), None)
    if font is None:
        return []
    title_file = workdir / "title.txt"
    title_file.write_text(title)
    note_file = workdir / "note.txt"
    note_file.write_text("Sample clip - synthetic voices (espeak-ng)")
    text = f"fontfile={font}:fontcolor=white:x=(w-text_w)/2"
    return ["-vf",
            f"drawtext={text}:textfile={title_file}:fontsize=30:y=(h-text_h)/2-20,"
            f"drawtext={text}:textfile={note_file}:fontsize=16:y=(h/2)+30:fontcolor=0xa0b0c0"]


def mux(out: Path, title: str, audio_wav: Path, video_seconds: float, audio_offset: float,
        workdir: Path) -> None:
    """Encode the slate video and the WAV into a small faststart MP4."""
    video = f"color=c={BACKGROUND}:s={SIZE}:r={FPS}:d={video_seconds:.3f}"
    offset = ["-itsoffset", f"{audio_offset}"] if audio_offset else []
    cmd = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", video,
        *offset, "-i", str(audio_wav),
        *slate_filter(title, workdir),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "veryslow", "-tune", "stillimage", "-crf", "30",
        "-pix_fmt", "yuv420p", "-g", str(FPS * 10),
        "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", str(RATE),
        "-map_metadata", "-1", "-fflags", "+bitexact",
        "-movflags", "+faststart", str(out),
    ]
    subprocess.run(cmd, check=True)


def probe(path: Path) -> dict:
    """Codecs, stream start times and container duration as PyAV reports them."""
    with av.open(str(path)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        return {
            "duration": container.duration / av.time_base,
            "video_codec": v.codec_context.name,
            "audio_codec": a.codec_context.name,
            "video_start": float(v.start_time * v.time_base),
            "audio_start": float(a.start_time * a.time_base),
            "audio_rate": a.codec_context.sample_rate,
            "audio_channels": a.codec_context.channels,
        }


def decoded_audio(path: Path) -> tuple[np.ndarray, float]:
    """The clip's audio as mono float32 and the video-timeline time of its first sample."""
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    first = float(frames[0].time)
    audio = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)
    return audio, first


def level_db(audio: np.ndarray, first: float, start: float, end: float) -> float:
    """RMS level in dBFS of [start, end) on the video timeline."""
    lo, hi = round((start - first) * RATE), round((end - first) * RATE)
    part = audio[max(lo, 0):max(hi, 0)]
    rms = float(np.sqrt(np.mean(np.square(part)))) if len(part) else 0.0
    return 20 * np.log10(max(rms, 1e-9))


def onset(audio: np.ndarray, first: float, near: float) -> float:
    """Where the decoded audio first gets loud within 0.25 s of a sentence's reference start."""
    lo = max(round((near - 0.25 - first) * RATE), 0)
    window = audio[lo:lo + round(0.5 * RATE)]
    hop = round(0.005 * RATE)
    rms = np.sqrt(np.convolve(np.square(window), np.ones(hop) / hop, mode="same"))
    loud = np.flatnonzero(rms > 10 ** (-40 / 20))
    return first + (lo + (int(loud[0]) if len(loud) else len(window))) / RATE


def check(ok: bool, what: str, detail: object) -> None:
    """Fail the build with a clear message when a check on an output does not hold."""
    if not ok:
        raise RuntimeError(f"{what}: {detail}")


def verify(path: Path, ref: dict, tones: list[list[float]]) -> dict:
    """Check container facts, levels and sentence onsets; return a summary of what was measured.

    Levels: every sentence is loud, every gap between sentences (the tone aside) is silent, the
    tone stretches are moderate. Onsets: each sentence starts in the decoded audio where the
    reference says, on the video timeline.
    """
    info = probe(path)
    check(info["video_codec"] == "h264" and info["audio_codec"] == "aac", "codecs", info)
    check(abs(info["video_start"]) < 0.002, "video start", info)
    check(abs(info["audio_start"] - ref["audio_start"]) < 0.002, "audio start", info)
    audio, first = decoded_audio(path)
    sents = ref["sentences"]
    speech = [level_db(audio, first, s["start"], s["end"]) for s in sents]
    between = [(a["end"] + 0.05, b["start"] - 0.05) for a, b in zip(sents, sents[1:], strict=False)]
    gaps = [level_db(audio, first, a, b) for a, b in between
            if not any(a < t_end and t_start < b for t_start, t_end in tones)]
    tone = [level_db(audio, first, a + 0.1, b - 0.1) for a, b in tones]
    drift = [abs(onset(audio, first, s["start"]) - s["start"]) for s in sents]
    check(min(speech) > -35, "quiet sentence (dBFS)", speech)
    check(max(gaps) < -55, "noise between sentences (dBFS)", gaps)
    check(all(-30 < t < -15 for t in tone), "tone level (dBFS)", tone)
    check(max(drift) < 0.03, "sentence onset error (s)", drift)
    return {**info, "sentence_db_min": round(float(min(speech)), 1),
            "gap_db_max": round(float(max(gaps)), 1),
            "tone_db": [round(float(t), 1) for t in tone],
            "onset_error_max": round(float(max(drift)), 3)}


def write_clip(name: str, title: str, story: list[Paragraph], tl: Timeline, audio_start: float,
               workdir: Path) -> dict:
    """Mux, verify, write <name>.ref.json and <name>.txt; return the verification summary.

    ``audio_start`` is where the audio stream starts on the video timeline (its start_time).
    """
    out = SAMPLES / f"{name}.mp4"
    wav_path = workdir / f"{name}.wav"
    write_wav(wav_path, tl.audio())
    shift = audio_start + AAC_PRIMING / RATE if audio_start else 0.0  # where the WAV's 0 lands
    mux(out, title, wav_path, tl.seconds + shift, shift, workdir)

    def moved(t: float) -> float:
        return round(t + shift, 3)

    sentences = [{**s, "start": moved(s["start"]), "end": moved(s["end"])} for s in tl.sentences]
    tones = [[moved(a), moved(b)] for a, b in tl.no_speech]
    paragraphs = [" ".join(s["text"] for s in sentences if s["paragraph"] == i)
                  for i in range(len(story))]
    ref = {
        "title": title,
        "duration": round(probe(out)["duration"], 3),
        "text": " ".join(paragraphs),
        "sentences": sentences,
        "no_speech": ([[0.0, audio_start]] if audio_start else []) + tones,
        "audio_start": audio_start,
    }
    summary = verify(out, ref, tones)
    (SAMPLES / f"{name}.ref.json").write_text(json.dumps(ref, indent=2) + "\n")
    (SAMPLES / f"{name}.txt").write_text("\n\n".join(paragraphs) + "\n")
    return summary


def main() -> None:
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        speed = tune_speed(SEED_SPOKEN, workdir, SEED_TONE_AFTER)
        seed = build_timeline(SEED_SPOKEN, speed, workdir, SEED_TONE_AFTER)
        summary = write_clip("seed-news", SEED_TITLE, SEED_SPOKEN, seed, 0.0, workdir)
        print(f"seed-news.mp4: espeak-ng -s {speed}, {len(seed.sentences)} sentences, {summary}")
        late = build_timeline(LATE_STORY, LATE_SPEED, workdir)
        summary = write_clip("late-audio", LATE_TITLE, LATE_STORY, late, LATE_AUDIO_OFFSET,
                             workdir)
        print(f"late-audio.mp4: espeak-ng -s {LATE_SPEED}, {len(late.sentences)} sentences, "
              f"{summary}")
        brief = build_timeline(BRIEF_STORY, BRIEF_SPEED, workdir)
        summary = write_clip("world-brief", BRIEF_TITLE, BRIEF_STORY, brief, 0.0, workdir)
        print(f"world-brief.mp4: espeak-ng -s {BRIEF_SPEED}, {len(brief.sentences)} sentences, "
              f"{summary}")


if __name__ == "__main__":
    main()
