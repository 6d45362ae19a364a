"""Probe clips with PyAV and extract 16 kHz mono audio with ffmpeg-python.

Both read only the uploaded file itself: the demuxer is limited to plain media containers (no
playlists, concat lists or SDP, which name other files or URLs) and I/O to the ``file`` protocol.
Uploads are hostile until proven otherwise, so the probe refuses pictures too large to decode
safely, and every ffmpeg run has a wall-time and an address-space limit.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import av
import ffmpeg
import numpy as np

from captioner.errors import MediaError

SAMPLE_RATE = 16_000

# Demuxers that read one self-contained file. Anything else (hls, concat, sdp, image2, ...) may
# open other files or URLs, so it is refused before its header is read.
ALLOWED_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mp3,wav,w64,flac,ogg,aac,mpegts,flv,asf,mxf,aiff"
)
SAFE_INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ALLOWED_DEMUXERS}

# The largest picture we take: 8192 px a side and the area of 8K UHD (7680x4320 and DCI 8K fit).
MAX_SIDE = 8192
MAX_PIXELS = 8192 * 4320
# Decoders refuse larger pictures, so a tiny file declaring a huge one cannot make the probe
# (in the web process) or ffmpeg allocate gigabytes; ffmpeg's own cap is ~268 Mpx.
DECODER_LIMITS = {"max_pixels": str(MAX_PIXELS)}
# Audio packets the probe decodes at most to find the first sample: bounds the web process's
# work on a stream that never decodes, while a few bad packets at the start are skipped.
PROBE_AUDIO_PACKETS = 500

# Address space per ffmpeg run. Rendering an 8K clip peaks near 1.5 GiB with the thread cap and
# arena limit below; without them it grows with the core count (6 GiB at 64 threads).
FFMPEG_MEMORY_BYTES = 4 * 1024**3
FFMPEG_THREADS = 8
# Wall time per run, scaled to the clip's declared duration.
AUDIO_TIME_BASE_S = 60.0  # audio: duration + 60 s (decoding runs hundreds of times real time)
RENDITION_TIME_MIN_S = 120.0  # rendition: max(120 s, 2x duration)
UNKNOWN_DURATION_S = 3 * 3600.0  # a clip that declares no duration: allow the default maximum
# What ffmpeg or the loader print when an allocation or a thread hits RLIMIT_AS.
_OUT_OF_MEMORY = ("Cannot allocate memory", "failed to map segment", "Resource temporarily "
                  "unavailable", "out of memory")


@dataclass(frozen=True)
class MediaInfo:
    """What a clip holds. Times in seconds on the clip's (video) timeline."""

    path: Path
    container: str
    duration: float
    audio_codec: str | None
    video_codec: str | None
    audio_start: float  # where the audio stream begins relative to the clip start
    width: int = 0
    height: int = 0
    # False when the container declares no duration (a browser or live recording, a piped
    # file): ``duration`` was then measured from its packets, and browsers cannot seek in it.
    duration_declared: bool = True

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


@cache
def ffmpeg_binary() -> str:
    """System ffmpeg when on PATH, else the static binary that imageio-ffmpeg ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # only needed where the system has no ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path | str) -> MediaInfo:
    """Read a clip's streams and timing; raise MediaError with one clear line when unusable."""
    path = Path(path)
    _check_file(path)
    if _looks_like_text(path):
        raise MediaError(
            f"{path.name}: this is a text file (a playlist, list or document), not audio or video"
        )
    try:
        container = av.open(str(path), options={**SAFE_INPUT_OPTIONS, **DECODER_LIMITS})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(
            f"{path.name}: not a media file we can read ({_reason(exc)}); send a video or "
            "audio file such as MP4, MOV, MKV, WebM, MP3, M4A or WAV"
        ) from exc
    with container:
        return _describe(path, container)


def _looks_like_text(path: Path) -> bool:
    """Media containers are binary; playlists, concat lists and SDP files are text."""
    with path.open("rb") as f:
        head = f.read(4096)
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a multi-byte character cut at the end is still text
    return True


def _check_file(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"{path}: no such file", "missing")
    if not path.is_file():
        raise MediaError(f"{path}: not a file", "missing")
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name}: the file is empty", "empty")


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__


def _describe(path: Path, container: av.container.InputContainer) -> MediaInfo:
    audio = container.streams.audio[0] if container.streams.audio else None
    video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
    _check_decodable(path, audio, "audio")
    _check_decodable(path, video, "video")
    width, height = _picture_size(path, video) if video else (0, 0)
    if not (width and height):
        video = None  # no picture size even declared: caption the audio, ignore the video
    clip_start = (container.start_time or 0) / av.time_base
    duration = _duration(container, audio, video)
    declared = duration > 0
    if not declared:
        duration = _measured_duration(container, [s for s in (audio, video) if s], clip_start)
    return MediaInfo(
        path=path,
        container=container.format.name,
        duration=duration,
        audio_codec=audio.codec_context.name if audio else None,
        video_codec=video.codec_context.name if video else None,
        audio_start=_audio_start(path, container, audio, clip_start) if audio else 0.0,
        width=width,
        height=height,
        duration_declared=declared,
    )


def _check_decodable(path: Path, stream: av.stream.Stream | None, kind: str) -> None:
    """A stream with no decoder here (an unknown or made-up codec) cannot be used."""
    if stream is not None and stream.codec_context is None:
        raise MediaError(
            f"{path.name}: the {kind} stream is in a codec we cannot decode", "unsupported"
        )


def _picture_size(path: Path, video: av.stream.Stream) -> tuple[int, int]:
    """The video's size, refused when over MAX_SIDE / MAX_PIXELS.

    A decoder given ``max_pixels`` forgets a larger size (it reports 0x0), so the size the
    container declares is read again with no decoder at all, which allocates no picture.
    """
    width, height = video.codec_context.width, video.codec_context.height
    if not (width and height):
        width, height = _declared_size(path, video.index)
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise MediaError(
            f"{path.name}: the video is {width}x{height} pixels; the largest we take is "
            f"{MAX_SIDE} pixels a side and {MAX_PIXELS / 1e6:.1f} megapixels (8K)",
            "picture_too_large",
        )
    return width, height


def _declared_size(path: Path, index: int) -> tuple[int, int]:
    options = {**SAFE_INPUT_OPTIONS, "codec_whitelist": "none"}  # open no decoder: read only
    try:
        with av.open(str(path), options=options) as container:
            params = container.streams[index].codec_context
            return (params.width, params.height) if params is not None else (0, 0)
    except (av.error.FFmpegError, IndexError):
        return 0, 0


def _is_cover_art(stream: av.stream.Stream) -> bool:
    # mp3/m4a album art shows up as a one-picture video stream
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _audio_start(path: Path, container: av.container.InputContainer, audio: av.stream.Stream,
                 clip_start: float) -> float:
    return max(0.0, _first_audio_time(path, container, audio) - clip_start)


def _first_audio_time(path: Path, container: av.container.InputContainer,
                      audio: av.stream.Stream) -> float:
    """Time of the first decoded audio sample.

    The stream's start_time counts encoder priming (AAC: 1024 samples) that the decoder drops,
    so the first frame's time is where audible audio really begins. Bad packets are skipped as
    ffmpeg skips them when extracting; a stream none of whose first packets decode is refused.
    """
    error: Exception | None = None
    for n, packet in enumerate(container.demux(audio)):
        if n >= PROBE_AUDIO_PACKETS:
            break
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            error = exc
            continue
        for frame in frames:
            if frame.time is not None:
                return float(frame.time)
    if error is not None:
        raise MediaError(
            f"{path.name}: the audio stream cannot be decoded ({_reason(error)})", "undecodable"
        )
    if audio.start_time is not None and audio.time_base is not None:
        return float(audio.start_time * audio.time_base)
    return 0.0


def _duration(container, audio, video) -> float:
    if container.duration:
        return max(0.0, container.duration / av.time_base)
    for stream in (video, audio):
        if stream is not None and stream.duration and stream.time_base:
            return max(0.0, float(stream.duration * stream.time_base))
    return 0.0


def _measured_duration(container: av.container.InputContainer, streams: list[av.stream.Stream],
                       clip_start: float) -> float:
    """The end of the last packet, for a file that does not declare its duration.

    Packets are read, not decoded (a 3 h file takes seconds); reading stops just past the
    longest clip anyone may upload, so a hostile file cannot keep the probe busy.
    """
    end = 0.0
    for packet in container.demux(*streams):
        if packet.pts is None or packet.time_base is None:
            continue
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if end - clip_start > UNKNOWN_DURATION_S + 60:
            break
    return max(0.0, end - clip_start)


def _time_limit(info: MediaInfo, base: float, per_second: float) -> float:
    """Wall-time allowance for one ffmpeg run; an unknown duration counts as the longest clip."""
    return base + per_second * (info.duration or UNKNOWN_DURATION_S)


def audio_graph(info: MediaInfo) -> ffmpeg.nodes.OutputStream:
    """ffmpeg: the first audio stream as 16 kHz mono float32 on stdout."""
    return (
        ffmpeg.input(str(info.path), **SAFE_INPUT_OPTIONS)
        .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE,
                map="0:a:0", af="aresample=async=1", vn=None, sn=None, dn=None)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
    )


def extract_audio(info: MediaInfo) -> np.ndarray:
    """Decode the first audio stream to 16 kHz mono float32 in [-1, 1].

    ``aresample=async=1`` fills gaps inside the stream with silence so later words stay in sync;
    the stream's start offset is not padded here, callers add ``info.audio_start`` to times.
    """
    if not info.has_audio:
        raise MediaError(
            f"{info.path.name}: the clip has no audio stream to caption", "no_audio"
        )
    out = run_ffmpeg(audio_graph(info), info, "decoding the audio",
                     _time_limit(info, AUDIO_TIME_BASE_S, 1))
    audio = np.frombuffer(out, dtype=np.float32)
    if audio.size == 0:
        raise MediaError(f"{info.path.name}: the audio stream holds no samples", "no_audio")
    return audio


# What every current browser plays in <video> without help (H.264/AAC MP4, VP8/9/AV1 WebM...).
PLAYABLE_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "webm", "matroska,webm", "mp3", "wav", "ogg"}
PLAYABLE_VIDEO = {None, "h264", "vp8", "vp9", "av1"}
PLAYABLE_AUDIO = {None, "aac", "mp3", "opus", "vorbis", "pcm_s16le", "flac"}


def is_browser_playable(info: MediaInfo) -> bool:
    # ffmpeg reports mkv and webm as one demuxer; only a .webm-named file is sure to be WebM.
    if info.container == "matroska,webm" and info.path.suffix.lower() != ".webm":
        return False
    if not info.duration_declared:  # no duration, no index: the player could not seek
        return False
    return (
        info.container in PLAYABLE_CONTAINERS
        and info.video_codec in PLAYABLE_VIDEO
        and info.audio_codec in PLAYABLE_AUDIO
    )


def make_web_rendition(info: MediaInfo, target: Path) -> None:
    """H.264/AAC MP4 with the index up front (faststart) so browsers can seek at once."""
    video = {"vcodec": "libx264", "preset": "veryfast", "crf": 26, "pix_fmt": "yuv420p",
             "vf": "scale='min(1280,iw)':-2"} if info.has_video else {"vn": None}
    tmp = target.with_name(f".{target.name}.tmp.mp4")
    stream = (
        ffmpeg.input(str(info.path), threads=FFMPEG_THREADS, **SAFE_INPUT_OPTIONS,
                     **DECODER_LIMITS)
        .output(str(tmp), acodec="aac", audio_bitrate="128k", movflags="+faststart",
                threads=FFMPEG_THREADS, sn=None, dn=None, **video)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
        .overwrite_output()
    )
    try:
        run_ffmpeg(stream, info, "making a playable copy",
                   max(RENDITION_TIME_MIN_S, _time_limit(info, 0, 2)))
    except MediaError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)


def run_ffmpeg(stream: ffmpeg.nodes.OutputStream, info: MediaInfo, what: str,
               timeout_s: float) -> bytes:
    """Run an ffmpeg-python graph under a wall-time and an address-space limit; return stdout.

    ``what`` names the work for messages ("decoding the audio"). A limit hit, like any ffmpeg
    failure, raises MediaError with one line a person can act on; it never hangs.
    """
    proc = subprocess.Popen(stream.compile(cmd=ffmpeg_binary()), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **ffmpeg_process_limits())
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        took = f"{timeout_s:.0f}" if timeout_s >= 1 else f"{timeout_s:.2f}"
        raise MediaError(
            f"{info.path.name}: {what} was stopped after {took} s, the time limit for a clip "
            f"of {info.duration:.0f} s", "limit",
        ) from None
    if proc.returncode != 0:
        raise _ffmpeg_error(info, what, proc.returncode, err)
    return out


def ffmpeg_process_limits() -> dict[str, Any]:
    """``subprocess.Popen`` arguments that cap an ffmpeg child's address space.

    For every ffmpeg run on uploaded media; pair it with a wall-time limit (a timeout).
    """
    # Few malloc arenas: each reserves 64 MiB of address space, which RLIMIT_AS counts.
    return {"env": {**os.environ, "MALLOC_ARENA_MAX": "2"},
            "preexec_fn": partial(_limit_address_space, FFMPEG_MEMORY_BYTES)}


def _limit_address_space(limit: int) -> None:
    # Runs in the child between fork and exec: only a system call, no locks taken.
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _ffmpeg_error(info: MediaInfo, what: str, returncode: int, stderr: bytes) -> MediaError:
    lines = stderr.decode(errors="replace").strip().splitlines()
    limit = f"{FFMPEG_MEMORY_BYTES / 1024**2:,.0f} MiB"
    if any(m in line for line in lines for m in _OUT_OF_MEMORY):
        return MediaError(f"{info.path.name}: {what} was stopped: it needed more than the "
                          f"memory limit of {limit}", "limit")
    if returncode < 0:  # a failed allocation often ends in SIGSEGV or SIGABRT
        return MediaError(f"{info.path.name}: {what} crashed (signal {-returncode}), most "
                          f"likely at the memory limit of {limit}", "limit")
    last = lines[-1] if lines else f"ffmpeg exited with status {returncode}"
    return MediaError(f"{info.path.name}: {what} failed ({last})", "undecodable")
