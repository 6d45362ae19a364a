"""API contract checks on a real app (Flask test client, real SQLite, real media probe)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from captioner.config import Settings
from web import create_app
from web.uploads import STATUS_FOR_MEDIA_ERROR


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    app = create_app({"TESTING": True, "SETTINGS": settings})
    accounts = app.extensions["accounts"]
    accounts.add_user("alice", "a long enough password")
    app.config["TOKEN"] = accounts.create_token("alice")
    return app.test_client()


def _auth(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.application.config['TOKEN']}"}


def test_every_api_route_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "delete", "put", "patch")}
    app = client.application
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        if "{name}" in path:  # one route serves the four caption files
            paths = [path.replace("{name}", n) for n in
                     ("captions.vtt", "captions.srt", "transcript.json", "transcript.txt")]
        else:
            paths = [path]
        for p in paths:
            served |= {(p, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_every_error_code_the_api_can_send_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = set(spec["components"]["schemas"]["Error"]["properties"]["error"]
                     ["properties"]["code"]["x-codes"])
    web = Path(__file__).parent.parent / "web"
    source = "\n".join(p.read_text() for p in web.glob("*.py"))
    sent = set(re.findall(r'(?:error|UploadError)\(\d{3}, "([a-z_]+)"', source))
    sent |= set(STATUS_FOR_MEDIA_ERROR)
    sent |= {"too_large", "unauthorized", "forbidden", "not_found", "method_not_allowed",
             "too_many_requests"}  # Werkzeug's errors, named by http_error
    assert len(sent) > 20 and sent <= documented, sent - documented


def test_errors_are_json_with_a_message(client):
    r = client.get("/api/v1/clips/does-not-exist")
    assert r.status_code == 404 and r.get_json()["error"]["message"]
    r = client.put("/api/v1/clips", headers=_auth(client))
    assert r.status_code == 405 and r.get_json()["error"]["code"]
    r = client.get("/api/v1/clips?limit=0")
    assert r.status_code == 400 and "limit" in r.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [({"title": "x" * 301}, 400, "300"), ({"language": "xx"}, 400, "unknown language"),
     ({"language": "fr"}, 422, "English-only")],
)
def test_upload_fields_are_checked_before_anything_is_stored(client, fields, status, words):
    from io import BytesIO

    data = {"file": (BytesIO(b"\0" * 100), "clip.mp4"), **fields}
    r = client.post("/api/v1/clips", data=data, content_type="multipart/form-data",
                    headers=_auth(client))
    assert r.status_code == status and words in r.get_json()["error"]["message"]
    assert client.get("/api/v1/clips", headers=_auth(client)).get_json()["count"] == 0
