"""Caption file answers: the WSGI fast path for published clips and the Flask view for the rest.

A real app on real SQLite; clips are put in the store in each state with files on disk.
"""

from __future__ import annotations

import gzip

import pytest

from captioner.config import Settings
from captioner.store import FAILED, PARTIAL_VTT, PROCESSING, READY, Clip
from web import create_app

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nThe minister arrived in Kyiv.\n"
FILES = {"captions.vtt": VTT, "captions.srt": "1\n00:00:01,000 --> 00:00:02,500\nThe\n",
         "transcript.json": '{"segments": []}', "transcript.txt": "The minister.\n"}


@pytest.fixture
def app(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    app = create_app({"TESTING": True, "SETTINGS": settings})
    accounts = app.extensions["accounts"]
    owner = accounts.add_user("alice", "a long enough password")
    app.config["TOKEN"] = accounts.create_token("alice")
    app.config["OWNER"] = owner.id
    return app


def add_clip(app, clip_id: str, status: str = READY, published: bool = True,
             files: dict[str, str] | None = None) -> None:
    store = app.extensions["store"]
    store.add(Clip(id=clip_id, title=clip_id, media_file="in.mp4", status=status,
                   stage=status, published=published, owner_id=app.config["OWNER"],
                   error="no audio" if status == FAILED else None))
    folder = store.clip_dir(clip_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (FILES if files is None else files).items():
        (folder / name).write_text(text)
        (folder / f"{name}.gz").write_bytes(gzip.compress(text.encode()))


def owner(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.config['TOKEN']}"}


def test_published_files_skip_flask(app):
    add_clip(app, "pub")
    app.view_functions["api.clip_file"] = lambda **_: pytest.fail("Flask view was called")
    client = app.test_client()
    for name, text in FILES.items():
        r = client.get(f"/api/v1/clips/pub/{name}")
        assert r.status_code == 200 and r.get_data(as_text=True) == text
        assert r.headers["X-Captions-Complete"] == "true"


def test_fast_path_and_flask_view_answer_alike(app):
    add_clip(app, "pub")
    add_clip(app, "own", published=False)
    client = app.test_client()
    fast = client.get("/api/v1/clips/pub/captions.vtt")
    view = client.get("/api/v1/clips/own/captions.vtt", headers=owner(app))
    assert fast.get_data() == view.get_data() == VTT.encode()
    for header in ("Content-Type", "ETag", "Cache-Control", "Content-Length",
                   "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
                   "X-Captions-Complete"):
        assert fast.headers[header] == view.headers[header], header
    assert fast.headers["Content-Type"] == "text/vtt; charset=utf-8"
    # A private clip's answer also depends on who is logged in (Flask adds Cookie).
    assert fast.headers["Vary"] == "Accept-Encoding" and "Accept-Encoding" in view.headers["Vary"]


@pytest.mark.parametrize("clip_id", ["pub", "own"])
def test_etag_304_gzip_and_head(app, clip_id):
    add_clip(app, "pub")
    add_clip(app, "own", published=False)
    client = app.test_client()
    url, auth = f"/api/v1/clips/{clip_id}/captions.vtt", owner(app)
    etag = client.get(url, headers=auth).headers["ETag"]
    r = client.get(url, headers={**auth, "If-None-Match": etag})
    assert r.status_code == 304 and r.get_data() == b""
    assert client.get(url, headers={**auth, "If-None-Match": '"other"'}).status_code == 200
    packed = client.get(url, headers={**auth, "Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()).decode() == VTT
    assert packed.headers["ETag"] != etag  # other bytes, other tag
    head = client.head(url, headers=auth)
    assert head.status_code == 200 and head.get_data() == b""
    assert int(head.headers["Content-Length"]) == len(VTT.encode())


def test_private_clip_is_not_found_for_others(app):
    add_clip(app, "own", published=False)
    r = app.test_client().get("/api/v1/clips/own/captions.vtt")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_clip_in_work_gives_its_partial_captions_then_409(app):
    add_clip(app, "work", status=PROCESSING, files={PARTIAL_VTT: VTT})
    add_clip(app, "early", status=PROCESSING, files={})
    client = app.test_client()
    r = client.get("/api/v1/clips/work/captions.vtt")
    assert r.status_code == 200 and r.headers["X-Captions-Complete"] == "false"
    assert r.headers["Cache-Control"] == "no-store"
    r = client.get("/api/v1/clips/work/captions.srt")  # only the VTT is written as it goes
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_ready"
    r = client.get("/api/v1/clips/early/captions.vtt")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_ready"


def test_failed_and_deleted_files(app):
    add_clip(app, "bad", status=FAILED, files={})
    add_clip(app, "gone", files={})
    client = app.test_client()
    r = client.get("/api/v1/clips/bad/captions.vtt")
    assert r.status_code == 409 and "no audio" in r.get_json()["error"]["message"]
    r = client.get("/api/v1/clips/gone/captions.vtt")
    assert r.status_code == 404 and "gone" in r.get_json()["error"]["message"]
    assert client.get("/api/v1/clips/nope/captions.vtt").status_code == 404


def test_only_reads_take_the_fast_path(app):
    add_clip(app, "pub")
    r = app.test_client().post("/api/v1/clips/pub/captions.vtt")
    assert r.status_code == 405


def test_plain_copy_when_the_gzip_copy_is_missing(app):
    add_clip(app, "pub", files={"captions.vtt": VTT})
    (app.extensions["store"].clip_dir("pub") / "captions.vtt.gz").unlink()
    r = app.test_client().get("/api/v1/clips/pub/captions.vtt", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_data(as_text=True) == VTT
