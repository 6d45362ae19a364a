"""Probe clips with PyAV and extract 16 kHz mono audio with ffmpeg-python.

Both read only the uploaded file itself: the demuxer is limited to plain media containers (no
playlists, concat lists or SDP, which name other files or URLs) and I/O to the ``file`` protocol.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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
        container = av.open(str(path), options=SAFE_INPUT_OPTIONS)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{path.name}: not a media file we can read ({_reason(exc)})") from exc
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
    clip_start = (container.start_time or 0) / av.time_base
    duration = _duration(container, audio, video)
    return MediaInfo(
        path=path,
        container=container.format.name,
        duration=duration,
        audio_codec=audio.codec_context.name if audio else None,
        video_codec=video.codec_context.name if video else None,
        audio_start=max(0.0, _first_audio_time(container, audio) - clip_start) if audio else 0.0,
        width=video.codec_context.width if video else 0,
        height=video.codec_context.height if video else 0,
    )


def _is_cover_art(stream: av.stream.Stream) -> bool:
    # mp3/m4a album art shows up as a one-picture video stream
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _first_audio_time(container: av.container.InputContainer, audio: av.stream.Stream) -> float:
    """Time of the first decoded audio sample.

    The stream's start_time counts encoder priming (AAC: 1024 samples) that the decoder drops,
    so the first frame's time is where audible audio really begins.
    """
    try:
        for frame in container.decode(audio):
            if frame.time is not None:
                return float(frame.time)
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"the audio stream cannot be decoded ({_reason(exc)})", "undecodable"
        ) from exc
    if audio.start_time is not None and audio.time_base is not None:
        return float(audio.start_time * audio.time_base)
    return 0.0


def _duration(container, audio, video) -> float:
    if container.duration:
        return container.duration / av.time_base
    for stream in (video, audio):
        if stream is not None and stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return 0.0


def extract_audio(info: MediaInfo) -> np.ndarray:
    """Decode the first audio stream to 16 kHz mono float32 in [-1, 1].

    ``aresample=async=1`` fills gaps inside the stream with silence so later words stay in sync;
    the stream's start offset is not padded here, callers add ``info.audio_start`` to times.
    """
    if not info.has_audio:
        raise MediaError(
            f"{info.path.name}: the clip has no audio stream to caption", "no_audio"
        )
    stream = (
        ffmpeg.input(str(info.path), **SAFE_INPUT_OPTIONS)
        .output(
            "pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE,
            map="0:a:0", af="aresample=async=1", vn=None, sn=None, dn=None,
        )
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
    )
    try:
        out, _ = stream.run(cmd=ffmpeg_binary(), capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        last = detail[-1] if detail else "ffmpeg failed"
        raise MediaError(
            f"{info.path.name}: could not decode the audio ({last})", "undecodable"
        ) from exc
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
        ffmpeg.input(str(info.path), **SAFE_INPUT_OPTIONS)
        .output(str(tmp), acodec="aac", audio_bitrate="128k", movflags="+faststart",
                sn=None, dn=None, **video)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-y")
        .overwrite_output()
    )
    try:
        stream.run(cmd=ffmpeg_binary(), capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise MediaError(
            f"{info.path.name}: could not make a playable copy ({detail[-1] if detail else ''})",
            "undecodable",
        ) from exc
    tmp.replace(target)
