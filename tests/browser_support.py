"""Helpers for the browser tests: system Chromium via Playwright, axe-core, keyboard, VTT."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import webvtt
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

from tests.conftest import PASSWORD, PRODUCER

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = HERE / "js" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE / "artifacts"


def launch(playwright: Playwright) -> Browser:
    """The system Chromium, headless (no ``playwright install``: no browser downloads)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


@dataclass
class PageErrors:
    """Uncaught exceptions and console errors of one page; a test ends with none."""

    messages: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # substrings of errors a test expects

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    @property
    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(a in m for a in self.allowed)]

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.messages.append(f"{page.url}: {exc}"))
        page.on("console", self._console)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.messages.append(f"{msg.location.get('url', '')}: {msg.text}")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[str]:
    """Run axe-core on the page as it is now; one line per violation, empty when clean."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in results["violations"]
    ]


def focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("s => document.activeElement?.matches(s) ?? false", selector))


def tab_to(page: Page, selector: str, limit: int = 80, key: str = "Tab") -> int:
    """Press Tab (or Shift+Tab) until ``selector`` has focus; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if focused(page, selector):
            return presses
    active = page.evaluate("document.activeElement?.outerHTML.slice(0, 120)")
    raise AssertionError(f"{selector} not reached with {limit} x {key}; focus is on {active}")


@dataclass(frozen=True)
class VttCue:
    start: float
    end: float
    text: str  # lines joined by a space, entities decoded: what a person reads


def vtt_cues(text: str) -> list[VttCue]:
    return [
        VttCue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000,
               html.unescape(" ".join(c.lines)))
        for c in webvtt.from_string(text)
    ]


def plain(text: str) -> str:
    """Cue text from the browser (raw, may hold entities and line breaks) as a person reads it."""
    return html.unescape(re.sub(r"\s+", " ", text)).strip()


def cue_at(cues: list[VttCue], t: float) -> VttCue | None:
    return next((c for c in cues if c.start <= t < c.end), None)



def log_in(page: Page, name: str = PRODUCER, password: str = PASSWORD) -> None:
    """Log in through the login page, as a producer would."""
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
