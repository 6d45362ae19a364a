"""The service end to end: real gunicorn + Celery worker processes, embedded broker and Redis."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from captioner import formats
from captioner.evaluate import cues_in_no_speech, cues_text, median_sync, word_error_rate
from captioner.media import ffmpeg_binary
from captioner.segment import check
from tests.conftest import SAMPLES, LiveService, start_service, w3c_parse


def _check_seed_vtt(service: LiveService, clip: dict, ref) -> dict:
    """The same checks the core tests make, on the VTT the API serves."""
    r = requests.get(service.url + clip["links"]["vtt"], timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert w3c_parse(r.text)["errors"] == []
    cues = formats.read_vtt(r.text)
    assert check(cues, [], duration=clip["duration"]) == []
    figures = {
        "wer": word_error_rate(ref.text, cues_text(cues)),
        "sync": median_sync(ref.sentence_starts, cues),
    }
    assert figures["wer"] <= 0.20 and figures["sync"] <= 0.25, figures
    assert cues_in_no_speech(ref.no_speech, cues) == []
    return figures


def test_seed_sample_end_to_end_embedded(live_service, seed_ref):
    clip = live_service.upload(SAMPLES / "seed-news.mp4", title="US, Russia At Odds on Ukraine")
    assert clip["status"] == "queued" and clip["links"]["media"] is None
    done = live_service.wait_ready(clip["id"])
    assert done["status"] == "ready", done
    assert abs(done["duration"] - seed_ref.duration) < 0.5 and done["cue_count"] > 40
    print("embedded broker:", _check_seed_vtt(live_service, done, seed_ref))


def test_seed_sample_end_to_end_on_redis(redis_url, tmp_path, seed_ref):
    service = start_service(tmp_path / "data", CAPTIONER_BROKER_URL=redis_url)
    try:
        clip = service.upload(SAMPLES / "seed-news.mp4")
        done = service.wait_ready(clip["id"])
        assert done["status"] == "ready", done
        print("redis broker:", _check_seed_vtt(service, done, seed_ref))
    finally:
        service.stop()


@pytest.fixture(scope="module")
def streaming_service(tmp_path_factory) -> Iterator[LiveService]:
    """Sequential decoding: segments arrive one by one, so progress moves in small steps.

    With the default batched decoding a 3-min clip arrives in one batch at the end (only
    clips longer than one 10-min audio piece show progress between pieces).
    """
    service = start_service(tmp_path_factory.mktemp("streaming") / "data",
                            CAPTIONER_BATCH_SIZE="0")
    yield service
    service.stop()


def test_progress_and_captions_found_so_far_while_in_work(streaming_service):
    service = streaming_service
    clip = service.upload(SAMPLES / "seed-news.mp4", title="partial")
    partial, seen = None, []
    while partial is None:
        seen.append(requests.get(service.api(f"/clips/{clip['id']}"), headers=service.auth,
                                 timeout=10).json())
        r = requests.get(service.url + clip["links"]["vtt"], timeout=10)
        if r.status_code == 200 and r.headers["X-Captions-Complete"] == "false":
            partial = r.text
        elif r.status_code == 200:
            pytest.fail("the clip finished before a partial read")
        else:
            assert r.status_code == 409 and "not ready" in r.json()["error"]["message"]
            time.sleep(0.2)
    assert w3c_parse(partial)["errors"] == [] and formats.read_vtt(partial)
    assert r.headers["Cache-Control"] == "no-store"
    done = service.wait_ready(clip["id"], seen=seen)
    # Progress was saved while it ran: rising percent and cues found so far.
    working = [c for c in seen if c["status"] == "processing" and c["cue_count"] > 0]
    assert working and 0 < working[0]["progress"] < 1, [(c["stage"], c["progress"]) for c in seen]
    progress = [c["progress"] for c in seen]
    assert progress == sorted(progress)
    final = requests.get(service.url + done["links"]["vtt"], timeout=10)
    assert final.headers["X-Captions-Complete"] == "true"
    assert len(formats.read_vtt(final.text)) >= len(formats.read_vtt(partial))


def test_mkv_gets_a_web_playable_mp4(live_service, tmp_path):
    mkv = tmp_path / "clip.mkv"
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-i",
                    str(SAMPLES / "late-audio.mp4"), "-t", "6", "-c:v", "copy", "-c:a",
                    "libvorbis", str(mkv)], check=True)
    done = live_service.wait_ready(live_service.upload(mkv)["id"])
    assert done["status"] == "ready"
    r = requests.get(live_service.url + done["links"]["media"], timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    folder = live_service.data_dir / "clips" / done["id"]
    assert sorted(p.name for p in folder.iterdir() if p.suffix in (".mkv", ".mp4")) == [
        "original.mkv", "web.mp4"]


def test_browser_recording_with_no_duration(live_service, tmp_path, late_ref):
    """A MediaRecorder-style WebM declares no duration: it is measured, and viewers get a
    seekable MP4 and captions on the right times (not squeezed to 0 s)."""
    webm = tmp_path / "recording.webm"
    with webm.open("wb") as out:
        subprocess.run([ffmpeg_binary(), "-loglevel", "error", "-i",
                        str(SAMPLES / "late-audio.mp4"), "-c:v", "libvpx",
                        "-deadline", "realtime", "-c:a", "libopus", "-f", "webm", "pipe:"],
                       stdout=out, check=True)
    accepted = live_service.upload(webm)
    done = live_service.wait_ready(accepted["id"])
    assert done["status"] == "ready"
    assert abs(done["duration"] - late_ref.duration) < 0.1
    folder = live_service.data_dir / "clips" / done["id"]
    assert (folder / "web.mp4").is_file()
    cues = formats.read_vtt(requests.get(live_service.url + done["links"]["vtt"],
                                         timeout=10).text)
    assert cues and cues[0].start >= 2.0 and cues[-1].end <= done["duration"] + 0.01


def test_caption_files_have_etags_and_all_formats(live_service):
    clip = live_service.wait_ready(live_service.upload(SAMPLES / "late-audio.mp4")["id"])
    links = clip["links"]
    vtt = requests.get(live_service.url + links["vtt"], timeout=10)
    again = requests.get(live_service.url + links["vtt"], timeout=10,
                         headers={"If-None-Match": vtt.headers["ETag"]})
    assert again.status_code == 304
    packed = requests.get(live_service.url + links["vtt"], timeout=10,
                          headers={"Accept-Encoding": "gzip"})
    plain = requests.get(live_service.url + links["vtt"], timeout=10,
                         headers={"Accept-Encoding": "identity"})
    assert packed.headers["Content-Encoding"] == "gzip" and packed.text == plain.text
    assert "Content-Encoding" not in plain.headers
    assert int(packed.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    srt = requests.get(live_service.url + links["srt"], timeout=10)
    assert srt.ok and " --> " in srt.text and srt.text.startswith("1\n")
    doc = requests.get(live_service.url + links["json"], timeout=10).json()
    assert len(doc["cues"]) == clip["cue_count"] and doc["segments"][0]["words"]
    txt = requests.get(live_service.url + links["txt"], timeout=10)
    assert "Kerry" in txt.text and txt.headers["Content-Type"].startswith("text/plain")
    media = requests.get(live_service.url + links["media"], timeout=10,
                         headers={"Range": "bytes=100-199"})
    assert media.status_code == 206 and len(media.content) == 100


def test_three_clips_at_once_each_get_their_own_captions(live_service, tmp_path):
    # Three different short clips, so mixed-up captions would show.
    starts = (0, 8, 16)
    clips = []
    for i, start in enumerate(starts):
        path = tmp_path / f"part{i}.mp4"
        subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-ss", str(start), "-i",
                        str(SAMPLES / "late-audio.mp4"), "-t", "8", str(path)], check=True)
        clips.append(path)
    with ThreadPoolExecutor(3) as pool:
        uploaded = list(pool.map(lambda p: live_service.upload(p, title=p.stem), clips))
    texts = []
    for clip in uploaded:
        done = live_service.wait_ready(clip["id"])
        assert done["status"] == "ready" and done["title"] == clip["title"]
        texts.append(requests.get(live_service.url + done["links"]["txt"], timeout=10).text)
    assert len(set(texts)) == 3, texts


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bad")
    noaudio = folder / "silent-video.mp4"
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-i",
                    str(SAMPLES / "late-audio.mp4"), "-t", "2", "-an", "-c:v", "copy",
                    str(noaudio)], check=True)
    text = folder / "story.mp4"
    text.write_text("Not a video, just the script.\n" * 50)
    empty = folder / "empty.mp4"
    empty.touch()
    return {"not media": (text, 415, "text file"), "empty": (empty, 400, "empty"),
            "no audio": (noaudio, 422, "no audio")}


@pytest.mark.parametrize("case", ["not media", "empty", "no audio"])
def test_bad_uploads_get_clear_4xx_and_leave_nothing(live_service, bad_files, case):
    path, status, words = bad_files[case]
    before = _footprint(live_service)
    with path.open("rb") as f:
        r = requests.post(live_service.api("/clips"), files={"file": (path.name, f)},
                          headers=live_service.auth, timeout=30)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]
    assert _footprint(live_service) == before


def test_missing_file_field_and_too_big(live_service, tmp_path):
    before = _footprint(live_service)
    r = requests.post(live_service.api("/clips"), data={"title": "no file"},
                      headers=live_service.auth, timeout=10)
    assert r.status_code == 400 and "file" in r.json()["error"]["message"]
    small = start_service(tmp_path / "small", CAPTIONER_MAX_UPLOAD_BYTES="50000")
    try:
        with (SAMPLES / "late-audio.mp4").open("rb") as f:
            r = requests.post(small.api("/clips"), files={"file": ("big.mp4", f)},
                              headers=small.auth, timeout=30)
        assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
        assert requests.get(small.api("/clips"), headers=small.auth,
                            timeout=10).json()["count"] == 0
    finally:
        small.stop()
    assert _footprint(live_service) == before


def _footprint(service: LiveService) -> tuple[int, int, int]:
    clips = requests.get(service.api("/clips"), headers=service.auth, timeout=10).json()["count"]
    folders = len(list((service.data_dir / "clips").iterdir()))
    incoming = service.data_dir / "incoming"
    leftovers = len(list(incoming.iterdir())) if incoming.exists() else 0
    return clips, folders, leftovers


def test_unknown_clip_and_delete(live_service):
    r = requests.get(live_service.api("/clips/nope"), timeout=10)
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    clip = live_service.upload(SAMPLES / "late-audio.mp4", title="to delete")
    live_service.wait_ready(clip["id"])
    r = requests.delete(live_service.api(f"/clips/{clip['id']}"), headers=live_service.auth,
                        timeout=10)
    assert r.status_code == 204
    assert requests.get(live_service.api(f"/clips/{clip['id']}"), timeout=10).status_code == 404
    assert not (live_service.data_dir / "clips" / clip["id"]).exists()


@pytest.mark.parametrize("case", ["not media", "empty", "no audio", "missing"])
def test_bad_uploads_through_the_form_page(live_service, bad_files, case):
    """The no-JS form path answers with the upload page, the message and a 4xx."""
    before = _footprint(live_service)
    session, csrf = live_service.login_session()
    if case == "missing":
        r = session.post(live_service.url + "/upload", data={"title": "x", "csrf_token": csrf},
                         timeout=30)
        status, words = 400, "No file"
    else:
        path, status, words = bad_files[case]
        with path.open("rb") as f:
            r = session.post(live_service.url + "/upload", files={"file": (path.name, f)},
                             data={"title": "kept title", "csrf_token": csrf}, timeout=30,
                             allow_redirects=False)
        assert 'value="kept title"' in r.text, "the form keeps what the producer typed"
    assert r.status_code == status
    alert = re.search(r'role="alert">([^<]*)<', r.text)
    assert alert and words.lower() in alert.group(1).lower(), r.text
    assert _footprint(live_service) == before


def test_too_big_through_the_form_page(tmp_path):
    small = start_service(tmp_path / "small", CAPTIONER_MAX_UPLOAD_BYTES="50000")
    try:
        session, csrf = small.login_session()
        with (SAMPLES / "late-audio.mp4").open("rb") as f:
            r = session.post(small.url + "/upload", files={"file": ("big.mp4", f)},
                             data={"csrf_token": csrf}, timeout=30)
        assert r.status_code == 413 and "too large" in r.text
        assert requests.get(small.api("/clips"), headers=small.auth,
                            timeout=10).json()["count"] == 0
    finally:
        small.stop()
