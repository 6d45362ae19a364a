"""The pages in a real browser (system Chromium, headless) against the real service.

Upload through the form, watch the clip being captioned, then play it: captions on the video,
the highlighted transcript line and the VTT agree; text sizes; keyboard only; axe-core clean.
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from captioner.store import Store
from tests.browser_support import (
    CHROMIUM,
    PageErrors,
    VttCue,
    axe_violations,
    cue_at,
    focused,
    launch,
    log_in,
    plain,
    screenshot,
    tab_to,
    vtt_cues,
)
from tests.conftest import SAMPLES, LiveService

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
SEED_TITLE = "US, Russia At Odds on Ukraine"
SIZES = {"xs": ("14px", "14px"), "lg": ("22px", "30px")}  # transcript font, --cue-size
PERCENT = re.compile(r"^\d{1,3}%$")
_clips: dict[str, dict[str, Any]] = {}  # clips made by one test, reused by the next


@pytest.fixture(scope="session")
def service(live_service: LiveService) -> LiveService:
    return live_service


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, service: LiveService, errors: PageErrors) -> Iterator[Page]:
    """A fresh browser profile (empty localStorage) per test; JS errors fail the test."""
    context = browser.new_context(base_url=service.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors.watch(page)
    log_in(page)
    yield page
    context.close()
    assert not errors.unexpected, "errors in the page:\n" + "\n".join(errors.unexpected)


@pytest.fixture
def seed_clip(service: LiveService) -> dict[str, Any]:
    """The seed clip, ready: the one the upload test made, else uploaded through the API."""
    if "seed" not in _clips:
        _clips["seed"] = service.upload(SAMPLES / "seed-news.mp4", title=SEED_TITLE)
    clip = service.wait_ready(_clips["seed"]["id"])
    assert clip["status"] == "ready", clip
    return clip


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(violations)


def wait_until_ready(page: Page) -> None:
    """The player has swapped "please wait" for media, captions and the transcript."""
    expect(page.locator("#wait")).to_be_hidden(timeout=240_000)
    expect(page.locator("#transcript button").first).to_be_visible()
    page.wait_for_function(
        "() => { const t = document.getElementById('video').textTracks[0];"
        " return t && t.mode === 'showing' && t.cues && t.cues.length > 0; }"
    )


def active_cue(page: Page) -> str | None:
    text = page.evaluate(
        "() => { const c = document.getElementById('video').textTracks[0].activeCues;"
        " return c && c.length ? c[0].text : null; }"
    )
    return None if text is None else plain(text)


def highlighted(page: Page) -> str | None:
    current = page.locator("#transcript button.is-current")
    if current.count() == 0:
        return None
    return plain(current.locator(".cue-text").inner_text())


def seek(page: Page, t: float) -> None:
    page.evaluate("t => { document.getElementById('video').currentTime = t; }", t)
    page.wait_for_function("() => !document.getElementById('video').seeking")


def video_time(page: Page) -> float:
    return float(page.evaluate("document.getElementById('video').currentTime"))


def captions(service: LiveService, clip: dict[str, Any], at_least: int = 1) -> list[VttCue]:
    """The clip's cues as the API serves them in WebVTT."""
    r = requests.get(service.url + clip["links"]["vtt"], headers=service.auth, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/vtt")
    cues = vtt_cues(r.text)
    assert len(cues) >= at_least, r.text
    return cues


# --- upload and progress -------------------------------------------------------------------------

def test_upload_with_progress_then_player_turns_ready(
    page: Page, service: LiveService, browser: Browser
) -> None:
    page.goto("/upload")
    assert_accessible(page)
    screenshot(page, "upload")
    # Slow the upload down so the progress bar has something to show.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000,
    })
    page.set_input_files("#file", SAMPLES / "seed-news.mp4")
    expect(page.locator("#file-name")).to_contain_text("seed-news.mp4")
    page.fill("#title", SEED_TITLE)
    page.select_option("#language", "en")
    page.fill("#glossary", "Kerry\nLavrov\nKyiv\nCrimea\nPutin")
    page.click("#upload-submit")

    expect(page.locator("#upload-progress")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.getElementById('upload-bar').value; return v > 5 && v < 95; }"
    )
    assert page.locator("#upload-pct").inner_text().endswith("%")
    expect(page.locator("#upload-submit")).to_be_disabled()
    screenshot(page, "upload-progress")

    page.wait_for_url("**/clips/*", timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
    })
    clip_id = page.url.rsplit("/", 1)[1]
    _clips["seed"] = requests.get(service.api(f"/clips/{clip_id}"), headers=service.auth,
                                  timeout=10).json()
    expect(page.locator("h1")).to_have_text(SEED_TITLE)
    expect(page.locator(".breaking-label")).to_have_text("Breaking News")
    expect(page.locator("#clock")).to_contain_text("0:00")
    expect(page.locator("#clock-duration")).to_have_text("3:05")  # from the row, no media yet

    wait = page.locator("#wait")
    expect(wait).to_be_visible()
    expect(wait).to_contain_text("please wait")
    page.wait_for_function(  # live progress without a reload
        "() => document.getElementById('work-bar').value > 0"
        " || document.getElementById('wait').hidden",
        timeout=240_000,
    )
    if wait.is_visible():
        expect(page.locator("#work-pct")).to_have_text(PERCENT)
        assert_accessible(page)
        screenshot(page, "player-please-wait")
        _clip_list_updates_itself(browser, service, clip_id)

    page.evaluate("window.__notReloaded = true")
    wait_until_ready(page)
    assert page.evaluate("window.__notReloaded === true")
    expect(page.locator("#nomedia")).to_be_hidden()
    expect(page.locator("#downloads")).to_be_visible()
    video = page.locator("#video")
    expect(video).to_have_attribute("src", f"/media/{clip_id}")
    track = page.locator("#video track")
    expect(track).to_have_attribute("kind", "captions")
    expect(track).to_have_attribute("srclang", "en")
    expect(track).to_have_attribute("label", "English")
    page.wait_for_function("document.getElementById('video').readyState >= 1")
    screenshot(page, "player-ready")


def _clip_list_updates_itself(browser: Browser, service: LiveService, clip_id: str) -> None:
    """The clip list shows the clip in work with a progress bar, then Ready, with no reload."""
    context = browser.new_context(base_url=service.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors = PageErrors()
        errors.watch(page)
        log_in(page)
        page.goto("/")
        row = page.locator(f'tr[data-id="{clip_id}"]')
        expect(row.locator(".title a")).to_have_text(SEED_TITLE)
        expect(row.locator(".title a")).to_have_attribute("href", f"/clips/{clip_id}")
        expect(row.locator("td.num")).to_have_text("3:05")
        if row.locator("progress").count():
            label = row.locator("progress").get_attribute("aria-label") or ""
            assert SEED_TITLE in label
            assert_accessible(page)
            screenshot(page, "clips-in-work")
        page.evaluate("window.__notReloaded = true")
        expect(row.locator(".badge")).to_have_text("Ready", timeout=240_000)
        expect(row.locator("progress")).to_have_count(0)
        assert page.evaluate("window.__notReloaded === true")
        assert page.locator("tbody tr").first.get_attribute("data-id") is not None
        assert_accessible(page)
        screenshot(page, "clips")
        assert not errors.unexpected, errors.unexpected
    finally:
        context.close()


def test_upload_errors_show_the_api_message(page: Page, errors: PageErrors, tmp_path) -> None:
    errors.allow("status of 415")  # the browser logs the refused upload; that is the point
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n")
    page.goto("/upload")
    page.set_input_files("#file", notes)
    with page.expect_response("**/api/v1/clips") as answer:
        page.click("#upload-submit")
    assert answer.value.status == 415
    message = answer.value.json()["error"]["message"]
    alert = page.locator("#upload-error")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_have_text(message[0].upper() + message[1:].rstrip(".") + ".")
    expect(page.locator("#upload-submit")).to_be_enabled()
    assert page.url.endswith("/upload")
    assert_accessible(page)
    screenshot(page, "upload-error")


def test_dropping_a_file_on_the_zone_selects_it(page: Page) -> None:
    page.goto("/upload")
    transfer = page.evaluate_handle(
        "() => { const t = new DataTransfer();"
        " t.items.add(new File(['x'], 'dropped clip.mp4', {type: 'video/mp4'})); return t; }"
    )
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class(re.compile(r"\bis-over\b"))
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).not_to_have_class(re.compile(r"\bis-over\b"))
    assert page.evaluate("document.getElementById('file').files[0].name") == "dropped clip.mp4"
    expect(page.locator("#file-name")).to_contain_text("dropped clip.mp4")
    # The zone is the file input's label, so a click or a screen reader reaches the input.
    assert page.evaluate("document.getElementById('dropzone').control.id") == "file"


def test_upload_form_works_without_javascript(browser: Browser, service: LiveService,
                                              tmp_path) -> None:
    context = browser.new_context(base_url=service.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page)
        notes = tmp_path / "notes.mp4"
        notes.write_text("not a video at all\n")
        page.goto("/upload")
        page.set_input_files("#file", notes)
        page.fill("#title", "Kept <title>")
        with page.expect_response("**/upload") as answer:
            page.click("#upload-submit")
        assert answer.value.status == 415
        expect(page.locator("#upload-error")).to_contain_text("text file")
        expect(page.locator("#title")).to_have_value("Kept <title>")

        page.set_input_files("#file", SAMPLES / "late-audio.mp4")
        page.fill("#title", "No script upload")
        with page.expect_navigation():
            page.click("#upload-submit")
        assert "/clips/" in page.url, page.locator("#upload-error").inner_text()
        expect(page.locator("h1")).to_have_text("No script upload")
        expect(page.locator("#wait")).to_be_visible()  # server-rendered state, no JS
    finally:
        context.close()


# --- the player ----------------------------------------------------------------------------------

def test_captions_and_transcript_follow_the_video(
    page: Page, service: LiveService, seed_clip: dict[str, Any]
) -> None:
    cues = captions(service, seed_clip, at_least=20)
    page.goto(seed_clip["links"]["page"])
    wait_until_ready(page)
    buttons = page.locator("#transcript button")
    expect(buttons).to_have_count(len(cues))

    for cue in (cues[5], cues[len(cues) // 2], cues[-2]):
        seek(page, (cue.start + cue.end) / 2)
        page.wait_for_function(
            "t => { const c = document.getElementById('video').textTracks[0].activeCues;"
            " return c && c.length === 1 && Math.abs(c[0].startTime - t) < 0.002; }",
            arg=cue.start,
        )
        assert active_cue(page) == cue.text
        assert highlighted(page) == cue.text
        expect(page.locator("#transcript button.is-current")).to_have_attribute(
            "aria-current", "true")

    # Play (muted) and pause: the clock, the caption on screen and the highlight agree.
    seek(page, cues[3].start)
    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true;"
                  " return v.play(); }")
    page.wait_for_function("t => document.getElementById('video').currentTime > t",
                           arg=cues[3].start + 1.5)
    page.evaluate("document.getElementById('video').pause()")
    page.wait_for_timeout(300)  # let the last timeupdate and cuechange land
    t = video_time(page)
    expected = cue_at(cues, t)
    assert active_cue(page) == (expected.text if expected else None)
    assert highlighted(page) == (expected.text if expected else None)
    minutes, seconds = divmod(int(t), 60)
    expect(page.locator("#clock-current")).to_have_text(f"{minutes}:{seconds:02d}")
    expect(page.locator("#clock-duration")).to_have_text("3:05")
    assert_accessible(page)
    screenshot(page, "player-playing")

    # Clicking a transcript line seeks to that cue.
    target = cues[12]
    buttons.nth(12).click()
    page.wait_for_function("t => Math.abs(document.getElementById('video').currentTime - t)"
                           " < 0.01", arg=target.start)
    expect(buttons.nth(12)).to_have_class("is-current")
    assert highlighted(page) == target.text


def test_text_size_buttons_resize_and_persist(page: Page, seed_clip: dict[str, Any]) -> None:
    page.goto(seed_clip["links"]["page"])
    wait_until_ready(page)
    expect(page.locator("#sizes button[aria-pressed=true]")).to_have_text("MD (medium)")
    seek(page, 12.0)  # a caption on screen for the screenshots

    def sizes() -> tuple[str, str]:
        return (
            page.evaluate("getComputedStyle(document.getElementById('transcript')).fontSize"),
            page.evaluate("getComputedStyle(document.getElementById('story'))"
                          ".getPropertyValue('--cue-size').trim()"),
        )

    medium = sizes()
    for size, expected in SIZES.items():
        page.click(f"#sizes button[data-size={size}]")
        expect(page.locator(f"#sizes button[data-size={size}]")).to_have_attribute(
            "aria-pressed", "true")
        expect(page.locator("#sizes button[aria-pressed=true]")).to_have_count(1)
        assert sizes() == expected != medium
        screenshot(page, f"player-size-{size}")

    page.reload()
    wait_until_ready(page)
    expect(page.locator("#sizes button[data-size=lg]")).to_have_attribute("aria-pressed", "true")
    assert sizes() == SIZES["lg"]
    assert page.evaluate("localStorage.getItem('captioner.textSize')") == "lg"


def test_keyboard_only(page: Page, service: LiveService) -> None:
    """Upload, play from a transcript line and resize text without touching the mouse."""
    page.goto("/upload")
    tab_to(page, ".skip-link", limit=1)
    tab_to(page, "#file")
    page.locator(":focus").set_input_files(SAMPLES / "late-audio.mp4")  # the OS file dialog
    expect(page.locator("#file-name")).to_contain_text("late-audio.mp4")
    tab_to(page, "#title")
    page.keyboard.type("Keyboard clip")
    tab_to(page, "#upload-submit")
    page.keyboard.press("Enter")
    page.wait_for_url("**/clips/*", timeout=60_000)
    wait_until_ready(page)
    clip = requests.get(service.url + page.evaluate("document.getElementById('story')"
                                                    ".dataset.api"), headers=service.auth,
                        timeout=10).json()
    cues = captions(service, clip)

    page.locator("body").focus()
    tab_to(page, "#sizes button[data-size=lg]")
    page.keyboard.press("Space")
    expect(page.locator("#sizes button[data-size=lg]")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(
        "getComputedStyle(document.getElementById('transcript')).fontSize") == SIZES["lg"][0]

    tab_to(page, "#transcript li:nth-child(1) button")
    target = min(2, len(cues) - 1)
    for _ in range(target):
        page.keyboard.press("Tab")
    assert focused(page, f"#transcript li:nth-child({target + 1}) button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused transcript line shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_function("t => Math.abs(document.getElementById('video').currentTime - t)"
                           " < 0.01", arg=cues[target].start)
    screenshot(page, "player-keyboard")


# --- other states --------------------------------------------------------------------------------

def test_user_text_is_escaped_and_failed_clip_says_so(page: Page, service: LiveService) -> None:
    nasty = '<img src=x onerror="window.__pwned=1"> & <script>window.__pwned=2</script>'
    clip = service.upload(SAMPLES / "late-audio.mp4", title=nasty)
    clip = service.wait_ready(clip["id"])
    assert clip["status"] == "ready", clip
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))

    page.goto("/")
    expect(page.locator(f'tr[data-id="{clip["id"]}"] .title a')).to_have_text(nasty)
    page.goto(clip["links"]["page"])
    wait_until_ready(page)
    expect(page.locator("h1")).to_have_text(nasty)
    assert page.evaluate("window.__pwned === undefined")

    # A clip that failed has nothing to play and says why.
    Store("", service.data_dir).set(clip["id"], status="failed", stage="failed",
                                    error="the audio could not be decoded", web_file=None)
    page.reload()
    nomedia = page.locator("#nomedia")
    expect(nomedia).to_be_visible()
    expect(nomedia).to_contain_text("No media source currently available")
    expect(nomedia).to_contain_text("the audio could not be decoded")
    expect(page.locator("#wait")).to_be_hidden()
    expect(page.locator("#downloads")).to_be_hidden()
    assert page.evaluate("!document.getElementById('video').getAttribute('src')")
    assert_accessible(page)
    screenshot(page, "player-failed")


def test_unknown_clip_is_a_404_page(page: Page, errors: PageErrors) -> None:
    errors.allow("status of 404")
    response = page.goto("/clips/nosuchclip")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Clip not found")
    assert_accessible(page)

