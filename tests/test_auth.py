"""Who may do what, against the real service: tokens, sessions, CSRF, owners, viewers, limits."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import SAMPLES, LiveService, start_service

NOT_A_TOKEN = {"Authorization": "Bearer cap_this-is-not-a-real-token"}


@pytest.fixture(scope="module")
def world(live_service: LiveService) -> dict:
    """A private and a published clip of PRODUCER, and a rival producer's token."""
    private = live_service.upload(SAMPLES / "late-audio.mp4", title="private", publish=False)
    public = live_service.upload(SAMPLES / "late-audio.mp4", title="public", publish=True)
    for clip in (private, public):
        live_service.wait_ready(clip["id"])
    return {"private": private["id"], "public": public["id"],
            "rival": {"Authorization": f"Bearer {live_service.add_producer('rival')}"}}


def _write(service: LiveService, method: str, clip_id: str, headers: dict) -> int:
    url = service.api(f"/clips/{clip_id}")
    if method == "PATCH":
        r = requests.patch(url, json={"title": "renamed"}, headers=headers, timeout=10)
        return r.status_code
    return requests.delete(url, headers=headers, timeout=10).status_code


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_api_writes_need_the_owners_token(live_service, world, method):
    for clip in ("private", "public"):
        assert _write(live_service, method, world[clip], {}) == 401
        assert _write(live_service, method, world[clip], NOT_A_TOKEN) == 401
    assert _write(live_service, method, world["private"], world["rival"]) == 404  # unseen
    assert _write(live_service, method, world["public"], world["rival"]) == 403
    if method == "PATCH":
        assert _write(live_service, method, world["private"], live_service.auth) == 200


def test_upload_needs_a_producer(live_service):
    with (SAMPLES / "late-audio.mp4").open("rb") as f:
        files = {"file": ("clip.mp4", f)}
        r = requests.post(live_service.api("/clips"), files=files, timeout=30)
        assert r.status_code == 401 and "Bearer" in r.json()["error"]["message"]
        f.seek(0)
        r = requests.post(live_service.api("/clips"), files=files, headers=NOT_A_TOKEN,
                          timeout=30)
        assert r.status_code == 401 and "not valid" in r.json()["error"]["message"]


def test_session_writes_need_a_csrf_token(live_service, world):
    session, csrf = live_service.login_session()
    url = live_service.api(f"/clips/{world['private']}")
    assert session.patch(url, json={"published": False}, timeout=10).status_code == 400
    r = session.patch(url, json={"published": False}, headers={"X-CSRFToken": "forged"},
                      timeout=10)
    assert r.status_code == 400 and "CSRF" in r.json()["error"]["message"]
    r = session.patch(url, json={"published": False}, headers={"X-CSRFToken": csrf}, timeout=10)
    assert r.status_code == 200 and r.json()["published"] is False
    page = live_service.url + f"/clips/{world['private']}/publish"
    assert session.post(page, data={"published": "false"}, timeout=10).status_code == 400
    r = session.post(page, data={"published": "false", "csrf_token": csrf}, timeout=10,
                     allow_redirects=False)
    assert r.status_code == 303


def test_pages_send_people_without_login_to_the_login_page(live_service, world):
    for method, path in (("GET", "/upload"), ("POST", "/upload"),
                         ("POST", f"/clips/{world['public']}/publish")):
        r = requests.request(method, live_service.url + path, timeout=10, allow_redirects=False)
        assert r.status_code == 302 and "/login" in r.headers["Location"], (path, r.status_code)


def test_wrong_password_is_refused_and_next_stays_on_site(live_service):
    s = requests.Session()
    form = s.get(live_service.url + "/login", timeout=10).text
    from tests.conftest import PRODUCER, csrf_token

    r = s.post(live_service.url + "/login", data={"name": PRODUCER, "password": "wrong",
               "csrf_token": csrf_token(form)}, timeout=10)
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = s.post(live_service.url + "/login?next=https://evil.example/", timeout=10,
               allow_redirects=False,
               data={"name": PRODUCER, "password": "a long enough password",
                     "csrf_token": csrf_token(form)})
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_viewers_watch_published_clips_and_never_see_private_ones(live_service, world):
    pub, priv = world["public"], world["private"]
    api = requests.get(live_service.api(f"/clips/{pub}"), timeout=10).json()
    for link in ("page", "media", "vtt", "srt", "json", "txt"):
        assert requests.get(live_service.url + api["links"][link], timeout=10).ok, link
    listed = [c["id"] for c in requests.get(live_service.api("/clips"), timeout=10).json()["clips"]]
    assert pub in listed and priv not in listed
    for path in (f"/clips/{priv}", f"/media/{priv}", f"/api/v1/clips/{priv}",
                 f"/api/v1/clips/{priv}/captions.vtt", f"/api/v1/clips/{priv}/transcript.json"):
        assert requests.get(live_service.url + path, timeout=10).status_code == 404, path
        assert requests.get(live_service.url + path, headers=world["rival"],
                            timeout=10).status_code == 404, path
    mine = requests.get(live_service.api(f"/clips/{priv}/captions.vtt"),
                        headers=live_service.auth, timeout=10)
    assert mine.status_code == 200


def test_login_and_upload_are_rate_limited(tmp_path):
    service = start_service(tmp_path / "data", CAPTIONER_LOGIN_RATE="3/minute",
                            CAPTIONER_UPLOAD_RATE="2/minute")
    try:
        s = requests.Session()
        csrf = s.get(service.url + "/login", timeout=10).text
        from tests.conftest import csrf_token

        codes = [s.post(service.url + "/login", timeout=10,
                        data={"name": "x", "password": "y", "csrf_token": csrf_token(csrf)}
                        ).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        junk = tmp_path / "junk.mp4"
        junk.write_text("not media\n")
        codes = []
        for _ in range(3):
            with junk.open("rb") as f:
                codes.append(requests.post(service.api("/clips"), files={"file": f},
                                           headers=service.auth, timeout=10).status_code)
        assert codes == [415, 415, 429]
    finally:
        service.stop()
