"""Hostile uploads through the real API: each file is made here and each gets a clear answer.

Every case is its own test: a 4xx with a specific message, or a clip that ends ``ready`` with
captions (or ``failed`` with a readable reason). After each, the service still answers, a
reference clip uploaded first is untouched (same captions ETag), nothing is left in
``incoming`` and no clip folder exists without its database row. A listener socket stands in
for any URL a playlist names: it must see no connection at all.
"""

from __future__ import annotations

import dataclasses
import random
import socket
import sqlite3
import struct
import subprocess
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
import requests
from urllib3 import encode_multipart_formdata

from captioner import media
from captioner.errors import MediaError
from tests.conftest import SAMPLES, LiveService, start_service

SOURCE = SAMPLES / "late-audio.mp4"  # speech from 2.0 s to 28.2 s; see late-audio.ref.json
SCRIPT_TITLE = '<script>alert("owned")</script> & <b>Kerry</b>'


# --- making the files ------------------------------------------------------------------------

def ffmpeg(*args: str | Path) -> None:
    subprocess.run([media.ffmpeg_binary(), "-y", "-nostdin", "-loglevel", "error",
                    *map(str, args)], check=True, timeout=60)


def cut(folder: Path, seconds: float, name: str = "cut.mp4", *codec: str) -> Path:
    """The first ``seconds`` of the sample (audio from 2 s), stream-copied unless told."""
    path = folder / name
    if not path.exists():
        ffmpeg("-i", SOURCE, "-t", str(seconds), *(codec or ("-c", "copy")), path)
    return path


def png(width: int, height: int) -> bytes:
    """A 1-bit black PNG: a huge picture in a few kilobytes (rows of zeros compress well)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                        zlib.crc32(kind + data))
    pack = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    data = b"".join(pack.compress(row) for _ in range(height)) + pack.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND",
                                                                                      b"")


def huge_picture(folder: Path, declared: int | None = None) -> Path:
    """MKV: a 16000x16000 PNG frame (or one patched to declare ``declared`` px) + real audio."""
    picture = folder / "huge.png"
    picture.write_bytes(png(16000, 16000))
    path = folder / f"huge-{declared or 16000}.mkv"
    ffmpeg("-i", picture, "-i", cut(folder, 6), "-map", "0:v", "-map", "1:a", "-c", "copy", path)
    if declared:  # PixelWidth (B0) and PixelHeight (BA), two-byte values, in the track header
        data = path.read_bytes()
        for element in (b"\xb0\x82", b"\xba\x82"):
            data = data.replace(element + (16000).to_bytes(2, "big"),
                                element + declared.to_bytes(2, "big"))
        path.write_bytes(data)
    return path


def overwrite_audio(src: Path, dst: Path, start: float, end: float,
                    fill: int | None = None) -> Path:
    """Copy ``src`` with its audio packets between ``start`` and ``end`` s overwritten in place.

    ``fill`` None writes seeded random bytes (a damaged stretch that sometimes still decodes);
    0x20 opens every AAC frame with a channel element a mono stream lacks, so none decodes.
    """
    data = bytearray(src.read_bytes())
    rng = random.Random(7)
    with av.open(str(src)) as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            if packet.pts is None or packet.pos is None or packet.pos < 0:
                continue
            if start <= float(packet.pts * stream.time_base) < end:
                junk = bytes([fill]) * packet.size if fill is not None else rng.randbytes(
                    packet.size)
                data[packet.pos:packet.pos + packet.size] = junk
    dst.write_bytes(data)
    return dst


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


# A comment that is not UTF-8: the file no longer sniffs as text, yet ffmpeg still parses it.
BINARY_COMMENT = b"# \xff\xfe"


def playlist(segment: str, binary: bool = False) -> bytes:
    """An HLS playlist with one segment; ``binary`` defeats the probe's text sniffing."""
    lines = [b"#EXTM3U", BINARY_COMMENT if binary else b"#", b"#EXT-X-VERSION:3",
             b"#EXT-X-TARGETDURATION:10", b"#EXTINF:6.0,", segment.encode(), b"#EXT-X-ENDLIST",
             b""]
    return b"\n".join(lines)


def concat(entry: str, binary: bool = False) -> bytes:
    lines = [b"ffconcat version 1.0", BINARY_COMMENT if binary else b"", f"file '{entry}'".encode(),
             b""]
    return b"\n".join(lines)


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/segment0.ts"


# --- the cases -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Refused:
    status: int
    words: str  # in the error message


@dataclass(frozen=True)
class Captioned:
    """Ends ready with cues; ``check`` sees the service, the finished clip and its transcript."""

    check: Callable[[LiveService, dict, str], None] | None = None


@dataclass(frozen=True)
class Case:
    make: Callable[[Path, int], Path]  # (folder, listener port) -> the file to upload
    expect: Refused | Captioned
    filename: str | None = None  # what the upload claims the file is called
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    limited: bool = False  # sent to the service with small size and duration limits


def _one_frame(folder: Path, audio: bool) -> Path:
    frame = write(folder, "frame.png", png(64, 64))
    path = folder / f"one-frame-{'audio' if audio else 'silent'}.mp4"
    sound = ("-i", cut(folder, 6), "-map", "0:v", "-map", "1:a", "-c:a", "copy") if audio else ()
    ffmpeg("-i", frame, *sound, "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
    return path


def _many_audio_streams(folder: Path) -> Path:
    path = folder / "fifty-audio.mkv"
    ffmpeg("-i", cut(folder, 6), "-map", "0:v", *["-map", "0:a"] * 50, "-c", "copy", path)
    return path


def _unknown_audio_codec(folder: Path) -> Path:
    mkv = cut(folder, 6, "cut.mkv")
    return write(folder, "unknown-codec.mkv", mkv.read_bytes().replace(b"A_AAC", b"A_XYZ"))


def _zip(folder: Path) -> Path:
    path = folder / "archive.mp4"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clip.mp4", cut(folder, 6).read_bytes())
    return path


def _spoken(*phrases: str) -> Callable[[LiveService, dict, str], None]:
    def check(_service: LiveService, _clip: dict, text: str) -> None:
        for phrase in phrases:
            assert phrase.lower() in text.lower(), (phrase, text)
    return check


def _truncated(_service: LiveService, clip: dict, text: str) -> None:
    # The index promises 29 s; only the first ~8 s of media arrived. What is there is captioned.
    assert "kerry" in text.lower() and "borders" not in text.lower(), text


def _late_start(service: LiveService, clip: dict, _text: str) -> None:
    # Timestamps start 27.8 h in: the captions stay on the clip's own clock, from 0.
    doc = requests.get(service.url + clip["links"]["json"], timeout=10).json()
    assert clip["duration"] < 10 and 1.5 < doc["cues"][0]["start"] < 4, doc["cues"][0]


def _stored_as_original(service: LiveService, clip: dict, _text: str) -> None:
    """The user's name is the title's source only: the file is original.mp4 in its folder."""
    assert clip["title"] == "passwd", clip
    names = {p.name for p in (service.data_dir / "clips" / clip["id"]).iterdir()}
    assert "original.mp4" in names and not any("passwd" in n for n in names), names
    assert not any(p.name == "passwd" for p in service.data_dir.parent.rglob("*"))


def _escaped(service: LiveService, clip: dict, _text: str) -> None:
    """Stored and served verbatim as JSON data; escaped wherever it lands in HTML."""
    assert clip["title"] == SCRIPT_TITLE
    for page in (clip["links"]["page"], "/"):
        html = requests.get(service.url + page, timeout=10).text
        assert "&lt;script&gt;alert(" in html, page
        assert "<script>alert" not in html and "<b>Kerry</b>" not in html, page


CASES: dict[str, Case] = {
    "text renamed .mp4": Case(lambda f, _: write(f, "story.mp4", "Not a video.\n" * 50),
                              Refused(415, "text file")),
    "zero bytes": Case(lambda f, _: write(f, "empty.mp4", b""), Refused(400, "empty")),
    "truncated mp4 (first 30%)": Case(
        lambda f, _: write(f, "truncated.mp4", SOURCE.read_bytes()[:SOURCE.stat().st_size * 3
                                                                   // 10]),
        Captioned(_truncated)),
    "mp4 with no audio": Case(lambda f, _: cut(f, 3, "silent.mp4", "-an", "-c:v", "copy"),
                              Refused(422, "no audio")),
    "audio-only m4a": Case(lambda f, _: cut(f, 6, "audio.m4a", "-vn", "-c:a", "copy"),
                           Captioned(_spoken("secretary"))),
    "audio-only mp3": Case(lambda f, _: cut(f, 6, "audio.mp3", "-vn", "-c:a", "libmp3lame"),
                           Captioned(_spoken("secretary"))),
    "one-frame video, no audio": Case(lambda f, _: _one_frame(f, audio=False),
                                      Refused(422, "no audio")),
    "one-frame video with audio": Case(lambda f, _: _one_frame(f, audio=True),
                                       Captioned(_spoken("secretary"))),
    "16000x16000 picture": Case(lambda f, _: huge_picture(f),
                                Refused(422, "16000x16000 pixels")),
    "declared 30000x30000": Case(lambda f, _: huge_picture(f, declared=30000),
                                 Refused(422, "30000x30000 pixels")),
    "HLS playlist .m3u8": Case(lambda f, port: write(f, "live.m3u8", playlist(url(port))),
                               Refused(415, "text file")),
    "HLS playlist renamed .mp4": Case(lambda f, port: write(f, "live.mp4", playlist(url(port))),
                                      Refused(415, "text file")),
    "HLS playlist, not UTF-8": Case(
        lambda f, port: write(f, "live-bin.mp4", playlist(url(port), binary=True)),
        Refused(415, "not a media file")),
    "HLS naming a local media file": Case(
        lambda f, _: write(f, "steal.mp4", playlist(str(cut(f, 6, "secret.ts")), binary=True)),
        Refused(415, "not a media file")),
    "ffconcat naming /etc/passwd": Case(
        lambda f, _: write(f, "list.ffconcat", concat("/etc/passwd")),
        Refused(415, "text file")),
    "ffconcat naming original.mp4, not UTF-8": Case(
        lambda f, _: write(f, "list.mp4", concat("original.mp4", binary=True)),
        Refused(415, "not a media file")),
    "SDP file": Case(
        lambda f, port: write(f, "stream.sdp", f"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 "
                              f"127.0.0.1\nt=0 0\nm=audio {port} RTP/AVP 0\n"),
        Refused(415, "text file")),
    "image2 pattern name, PNG inside": Case(lambda f, _: write(f, "img%03d.png", png(64, 64)),
                                            Refused(415, "not a media file")),
    "SVG renamed .mp4": Case(
        lambda f, _: write(f, "logo.mp4", '<svg xmlns="http://www.w3.org/2000/svg"><image '
                           'href="file:///etc/passwd"/></svg>'),
        Refused(415, "text file")),
    "zip renamed .mp4": Case(lambda f, _: _zip(f), Refused(415, "not a media file")),
    "unknown audio codec": Case(lambda f, _: _unknown_audio_codec(f),
                                Refused(415, "codec we cannot decode")),
    "audio that never decodes": Case(
        lambda f, _: overwrite_audio(SOURCE, f / "dead-audio.mp4", 0, 1e9, fill=0x20),
        Refused(422, "audio stream cannot be decoded")),
    "corrupt audio in the middle": Case(
        lambda f, _: overwrite_audio(SOURCE, f / "damaged.mp4", 15.0, 19.8),
        Captioned(_spoken("kerry is calling", "troops massing"))),  # before and after it
    "50 audio streams": Case(lambda f, _: _many_audio_streams(f),
                             Captioned(_spoken("secretary"))),
    "start time 27.8 h": Case(
        lambda f, _: cut(f, 6, "late-start.mp4", "-c", "copy", "-output_ts_offset", "100000"),
        Captioned(_late_start)),
    "filename ../../etc/passwd": Case(lambda f, _: cut(f, 6), Captioned(_stored_as_original),
                                      filename="../../etc/passwd"),
    "title with <script>": Case(lambda f, _: cut(f, 6), Captioned(_escaped),
                                fields={"title": SCRIPT_TITLE}),
    "10,000-character title": Case(lambda f, _: cut(f, 6), Refused(400, "10000 characters"),
                                   fields={"title": "x" * 10_000}),
    "title with control characters": Case(lambda f, _: cut(f, 6), Refused(400, "control"),
                                          fields={"title": "News\x00\x1b[31m"}),
    "over the size limit": Case(lambda f, _: SOURCE, Refused(413, "larger than the limit"),
                                limited=True),
    "over the duration limit": Case(
        lambda f, _: cut(f, 20, "twenty.m4a", "-vn", "-c:a", "aac", "-b:a", "16k"),
        Refused(413, "lasts 18 s; the limit is 10 s"), limited=True),  # audio from 2 s
}


# --- fixtures --------------------------------------------------------------------------------

class Listener:
    """A TCP port that records every connection: what a playlist's URL would reach."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, address = self.sock.accept()
            except OSError:
                continue
            self.connections.append(address)
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    listening = Listener()
    yield listening
    listening.close()
    assert listening.connections == [], "a playlist made the service open a URL"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def reference(live_service: LiveService, folder: Path) -> dict:
    """A good clip captioned before the hostile ones; it must stay exactly as it is."""
    clip = live_service.wait_ready(live_service.upload(cut(folder, 6, "reference.mp4"))["id"])
    assert clip["status"] == "ready" and clip["cue_count"] > 0, clip
    vtt = requests.get(live_service.url + clip["links"]["vtt"], timeout=10)
    return {**clip, "etag": vtt.headers["ETag"]}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    service = start_service(tmp_path_factory.mktemp("limited") / "data",
                            CAPTIONER_MAX_UPLOAD_BYTES="150000", CAPTIONER_MAX_DURATION_S="10")
    yield service
    service.stop()


# --- checks ----------------------------------------------------------------------------------

def post(service: LiveService, path: Path, filename: str, **fields: str) -> requests.Response:
    with path.open("rb") as f:
        return requests.post(service.api("/clips"), files={"file": (filename, f)},
                             data={"publish": "true", **fields}, headers=service.auth, timeout=60)


def files(service: LiveService) -> set[Path]:
    """Files in the data dir, less the broker's messages and the database's own files."""
    found = {p.relative_to(service.data_dir) for p in service.data_dir.rglob("*") if p.is_file()}
    return {p for p in found if p.parts[0] != "broker" and not p.name.startswith("captioner.db")}


def assert_healthy(service: LiveService) -> None:
    assert requests.get(service.api("/clips"), timeout=10).status_code == 200
    incoming = service.data_dir / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == [], "an upload was left behind"
    with sqlite3.connect(f"file:{service.data_dir / 'captioner.db'}?mode=ro", uri=True) as db:
        rows = {row[0] for row in db.execute("SELECT id FROM clips")}
    folders = {p.name for p in (service.data_dir / "clips").iterdir()}
    assert folders <= rows, f"clip folders without a row: {folders - rows}"


def assert_untouched(service: LiveService, reference: dict) -> None:
    clip = requests.get(service.api(f"/clips/{reference['id']}"), timeout=10).json()
    assert clip["status"] == "ready" and clip["cue_count"] == reference["cue_count"], clip
    again = requests.get(service.url + reference["links"]["vtt"], timeout=10,
                         headers={"If-None-Match": reference["etag"]})
    assert again.status_code == 304, "the reference clip's captions changed"


def check_captioned(service: LiveService, answer: requests.Response, case: Case) -> dict:
    assert answer.status_code == 202, answer.text
    clip = service.wait_ready(answer.json()["id"], timeout=120)
    assert clip["status"] == "ready", f"failed: {clip['error']}"
    assert clip["cue_count"] > 0, clip
    text = requests.get(service.url + clip["links"]["txt"], timeout=10).text
    if case.expect.check:
        case.expect.check(service, clip, text)
    return clip


# --- the tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_hostile_upload(name: str, live_service: LiveService, limited: LiveService,
                        reference: dict, listener: Listener, folder: Path) -> None:
    case = CASES[name]
    service = limited if case.limited else live_service
    path = case.make(folder, listener.port)
    passwd = Path("/etc/passwd").stat()
    before = files(service)
    answer = post(service, path, case.filename or path.name, **case.fields)
    clip_id = None
    if isinstance(case.expect, Refused):
        assert answer.status_code == case.expect.status, answer.text
        message = answer.json()["error"]["message"]
        assert case.expect.words in message and "Traceback" not in message, message
    else:
        clip = check_captioned(service, answer, case)
        clip_id = clip["id"]
        print(f"{name}: ready, {clip['cue_count']} cues, {clip['duration']} s")
    new = {p.parts[:2] for p in files(service) - before}
    assert new <= {("clips", clip_id)}, f"files written outside the clip's folder: {new}"
    assert listener.connections == []
    assert Path("/etc/passwd").stat() == passwd
    for each in (live_service, limited) if case.limited else (live_service,):
        assert_healthy(each)
    assert_untouched(live_service, reference)


def test_playlists_read_other_files_without_our_guards(folder: Path) -> None:
    """The playlist cases are real attacks on the tools we run: only our guards stop them."""
    secret = cut(folder, 6, "secret.ts")
    steal = write(folder, "steal.mp4", playlist(str(secret), binary=True))
    unguarded = subprocess.run([media.ffmpeg_binary(), "-nostdin", "-loglevel", "error", "-i",
                                str(steal), "-map", "0:a", "-f", "s16le", "-"],
                               capture_output=True, timeout=60)
    assert len(unguarded.stdout) > 50_000, "ffmpeg no longer follows playlists: check the case"
    beside = write(folder, "beside.mp4", concat(secret.name, binary=True))
    with av.open(str(beside)) as container:  # PyAV's own libav, no whitelist
        assert container.format.name == "concat" and container.streams.audio
    for path in (steal, beside):
        with pytest.raises(MediaError, match="not a media file"):
            media.probe(path)


def test_chunked_upload_over_the_limit(limited: LiveService) -> None:
    """No Content-Length to refuse early: the limit holds while the body streams in."""
    body, content_type = encode_multipart_formdata({"file": ("big.mp4", SOURCE.read_bytes())})
    chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
    r = requests.post(limited.api("/clips"), data=chunks, timeout=60,
                      headers={**limited.auth, "Content-Type": content_type})
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"], r.text
    assert_healthy(limited)


# --- ffmpeg's own limits, on a real clip -------------------------------------------------------

@pytest.fixture(scope="module")
def clip_info(folder: Path) -> media.MediaInfo:
    return media.probe(cut(folder, 6, "limits.mkv", "-c:v", "copy", "-c:a", "libvorbis"))


def test_ffmpeg_time_limit_stops_it_with_a_clear_error(clip_info, monkeypatch) -> None:
    monkeypatch.setattr(media, "AUDIO_TIME_BASE_S", 0.01)
    with pytest.raises(MediaError, match=r"decoding the audio was stopped after 0\.01 s"):
        media.extract_audio(dataclasses.replace(clip_info, duration=0.001))


def test_ffmpeg_memory_limit_stops_it_with_a_clear_error(clip_info, folder, monkeypatch) -> None:
    monkeypatch.setattr(media, "FFMPEG_MEMORY_BYTES", 64 * 1024**2)
    target = folder / "web.mp4"
    with pytest.raises(MediaError, match="memory limit of 64 MiB") as caught:
        media.make_web_rendition(clip_info, target)
    assert caught.value.kind == "limit"
    assert not target.exists() and not list(folder.glob(".web.mp4*")), "a partial file was left"


def test_real_clip_fits_the_default_limits(clip_info, folder) -> None:
    audio = media.extract_audio(clip_info)
    assert len(audio) > 3 * media.SAMPLE_RATE
    target = folder / "rendition.mp4"
    media.make_web_rendition(clip_info, target)
    assert media.probe(target).video_codec == "h264"
