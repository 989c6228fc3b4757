"""The playground in a real browser: headless Chromium (the system's) driven by Playwright,
against a real ``cramprules serve`` started as a separate process.

The tests type into the page as a person would, read what the page shows,
and follow the link it makes.  Screenshots at desktop and phone width are
saved to ``tests/playground/screenshots/`` (or ``$CRAMPRULES_SCREENSHOTS``).
Without Chromium the tests skip, saying so; CI installs it (``.ci/run``) and
sets ``CRAMPRULES_REQUIRE_BROWSER=1``, which turns a missing browser into a
failure instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REQUIRED = bool(os.environ.get("CRAMPRULES_REQUIRE_BROWSER"))
if REQUIRED:
    import playwright.sync_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("CRAMPRULES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("CRAMPRULES_SCREENSHOTS") or Path(__file__).parent / "screenshots")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often give /dev/shm only 64 MB
]

if not Path(CHROMIUM).exists():
    if REQUIRED:
        raise RuntimeError(f"CRAMPRULES_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium", allow_module_level=True)

NEW_RULE = """
fact sweating: bool "Do you sweat a lot?"
option water "Drink a glass of water with a pinch of salt"

rule thirsty:
    if sweating
    then recommend water
    because "Sweat takes water and salt with it." cite article
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``cramprules serve --no-auth`` on a free port, as a person would start it."""
    port = free_port()
    env = {**os.environ, "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cramprules",
            "serve",
            "--no-auth",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            raise RuntimeError("cramprules serve did not start: " + stderr.decode()[-2000:])
        time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Playwright gives every launch a fresh, empty profile directory of its own
    # (it refuses --user-data-dir here), and removes it afterwards.
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page, and every console error, page error and request that left the server."""

    def __init__(self, page: object, server: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: self.errors.append(str(e)))  # type: ignore[attr-defined]

        def request(r: object) -> None:
            url = r.url  # type: ignore[attr-defined]
            if not url.startswith((server, "data:", "about:")):
                self.outside.append(url)

        page.on("request", request)  # type: ignore[attr-defined]


@pytest.fixture
def watched(browser, server) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield Watched(page, server)
    finally:
        context.close()


def report_text(page) -> str:
    return page.frame_locator("#report iframe").locator("body").inner_text()


def wait_for_report(page, text: str) -> None:
    page.frame_locator("#report iframe").locator("body", has_text=text).wait_for()


def test_the_page_loads_the_sample_and_shows_its_report(watched, server):
    page = watched.page
    page.goto(server + "/playground")
    page.locator("#facts select[name=night_cramps]").wait_for()
    page.locator("#diagnostics li.ok").wait_for()
    assert "No findings" in page.locator("#diagnostics").inner_text()
    # highlighting: keywords and names coloured by what the checker says they are
    assert page.locator("#highlight .t-keyword", has_text="rule").count() >= 3
    assert page.locator("#highlight .t-fact", has_text="night_cramps").count() >= 2
    assert page.locator("#highlight .t-option", has_text="stretching").count() >= 2
    wait_for_report(page, "Night cramps: a sample")
    page.locator("#graph img").wait_for()
    assert watched.errors == []
    assert watched.outside == []


def test_type_a_rule_set_facts_and_see_the_report_change_then_share_it(watched, server, browser):
    page = watched.page
    page.goto(server + "/playground")
    page.locator("#facts select[name=night_cramps]").wait_for()
    wait_for_report(page, "Night cramps: a sample")
    assert "Stretch your calves" not in report_text(page)

    page.select_option("#facts select[name=night_cramps]", "true")
    wait_for_report(page, "Stretch your calves before bed")

    # type a new fact, option and rule at the end, as a person would
    page.locator("#source").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(NEW_RULE)
    page.locator("#facts select[name=sweating]").wait_for()
    page.locator("#diagnostics li.ok").wait_for()
    assert page.locator("#highlight .t-rule", has_text="thirsty").count() == 1
    assert "Drink a glass of water" not in report_text(page)
    page.select_option("#facts select[name=sweating]", "true")
    wait_for_report(page, "Drink a glass of water with a pinch of salt")
    assert "Stretch your calves before bed" in report_text(page)  # the earlier answer kept

    page.fill("#facts input[name=pain]", "9")
    wait_for_report(page, "doctor")
    page.locator("#changes", has_text="pain: 9").wait_for()
    page.locator("#trace td", has_text="thirsty").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)  # for the picture only
    page.screenshot(path=str(SCREENSHOTS / "playground-desktop.png"))

    # a typo: the live diagnostic with check's code and hint, underlined in the editor
    page.locator("#source").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nrule typo:\n    if sweatng\n    then recommend water\n")
    page.locator("#diagnostics li.error", has_text="typo-name").wait_for()
    assert "did you mean 'sweating'?" in page.locator("#diagnostics").inner_text()
    assert page.locator("#highlight .d-error", has_text="sweatng").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "playground-diagnostic.png"))
    for _ in range(len("\nrule typo:\n    if sweatng\n    then recommend water\n")):
        page.keyboard.press("Backspace")
    page.locator("#diagnostics li.ok").wait_for()

    # the link reproduces the ruleset and the facts in a fresh browser context
    page.wait_for_function("location.hash.startsWith('#s=')")
    page.wait_for_timeout(400)  # the address is updated a moment after the last change
    link = page.evaluate("location.href")
    text = page.locator("#source").input_value()
    assert watched.errors == []
    assert watched.outside == []

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        other = context.new_page()
        other.set_default_timeout(20_000)
        second = Watched(other, server)
        other.goto(link)
        other.locator("#facts select[name=sweating]").wait_for()
        assert other.locator("#source").input_value() == text
        assert other.locator("#facts select[name=sweating]").input_value() == "true"
        assert other.locator("#facts input[name=pain]").input_value() == "9"
        wait_for_report(other, "Drink a glass of water with a pinch of salt")
        # phone width: one column, nothing wider than the screen
        width = other.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        other.screenshot(path=str(SCREENSHOTS / "playground-phone.png"))
        other.locator("#report").scroll_into_view_if_needed()
        other.wait_for_timeout(500)  # for the picture only: the frame paints a moment after it scrolls in
        other.screenshot(path=str(SCREENSHOTS / "playground-phone-report.png"))
        assert second.errors == []
        assert second.outside == []
    finally:
        context.close()


def test_include_is_refused_in_the_playground(watched, server):
    page = watched.page
    page.goto(server + "/playground")
    page.locator("#diagnostics li.ok").wait_for()
    page.locator("#source").click()
    page.keyboard.press("Control+Home")
    page.keyboard.type('include "secrets.cramp"\n')
    page.locator("#diagnostics li.error", has_text="include-unavailable").wait_for()
    assert "the playground cannot read files" in page.locator("#diagnostics").inner_text()
    assert watched.errors == []
