"""The HTML pages in a real headless browser (Debian's Chromium, driven by Playwright):
the demo's index page and status page, served by `aggregator serve`, on a phone and a
desktop, light and dark; no request leaves the machine, no console error, no horizontal
scrolling, and screenshots that are not blank.

CI installs Chromium (.ci/run) and sets AGGREGATOR_REQUIRE_BROWSER=1, so that there a
missing browser fails the test instead of skipping it."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None:
    if os.environ.get("AGGREGATOR_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required here (apt-get install chromium)")
    pytest.skip("no Chromium on this machine (.ci/run installs it)", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    (folder / "feeds.yaml").write_text("feeds:\n  - https://example.com/feed.xml\n")
    store = f"sqlite:///{folder / 'aggregator.sqlite'}"  # kept: `serve` reads its metrics
    demo = run_cli(
        "--db", store, "demo", "--output", str(folder / "output"), cwd=folder, timeout=180
    )
    assert demo.returncode == 0, demo.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "serve", "--port", "0", "--quiet"],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        yield line.split(" on ")[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def not_blank(png: bytes) -> int:
    """How many distinct colours a screenshot holds (a blank page has one)."""
    image = Image.open(io.BytesIO(png)).convert("RGB").resize((200, 200))
    return len(image.getcolors(maxcolors=200 * 200) or ())


def visit(browser: object, url: str, *, phone: bool, scheme: str) -> tuple[object, list[str]]:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport=size, color_scheme=scheme, is_mobile=phone, device_scale_factor=1
    )
    page = context.new_page()
    problems: list[str] = []

    # The page itself loads nothing from elsewhere. The stories' bodies are the
    # publishers' HTML: their images come from the publishers' sites (in the demo, hosts
    # under the reserved .example, which never resolve), so those may fail to load.
    def content(url: str | None) -> bool:
        return (urlsplit(url or "").hostname or "").endswith(".example")

    page.on(
        "request",
        lambda r: (
            problems.append(f"external request {r.url}")
            if urlsplit(r.url).hostname != "127.0.0.1"
            and not (content(r.url) and r.resource_type == "image")
            else None
        ),
    )
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and not content(m.location.get("url"))
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error {e}"))
    page.goto(url, wait_until="load")
    return page, problems


@pytest.mark.parametrize(
    ("phone", "scheme"), [(False, "light"), (True, "dark")], ids=["desktop-light", "phone-dark"]
)
def test_index_page(site: str, browser: object, tmp_path: Path, phone: bool, scheme: str) -> None:
    page, problems = visit(browser, site + "index.html", phone=phone, scheme=scheme)
    assert page.locator("article").count() == 40  # type: ignore[attr-defined]
    first = page.locator("article").first  # type: ignore[attr-defined]
    assert first.locator("h2").inner_text().strip()
    # Issue 16: the one-sentence summary, the body, the score and related stories, each
    # a linked title with a whole-sentence summary beside it, all visible.
    summary = first.locator(".summary")
    assert summary.is_visible() and summary.inner_text().strip().endswith(".")
    assert first.locator(".body").is_visible() and first.locator(".body").inner_text().strip()
    assert first.locator(".score .badge").inner_text().strip().isdigit()  # the impact score
    assert "Impact Score" in first.locator(".score").inner_text()
    related = first.locator(".related li")
    assert related.count() >= 1
    for n in range(related.count()):
        item = related.nth(n)
        assert item.locator("a").is_visible() and item.locator("a").get_attribute("href")
        note = item.locator("span").inner_text().strip()
        assert note.endswith((".", "!", "?")) and not note.endswith("…"), note
    assert page.locator("h1").inner_text() not in page.locator("nav").inner_text()
    overflow = page.evaluate(  # type: ignore[attr-defined]
        "document.scrollingElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{overflow}px of horizontal scrolling"
    background = page.evaluate(  # type: ignore[attr-defined]
        "getComputedStyle(document.body).backgroundColor"
    )
    red = int(background.split("(")[1].split(",")[0])
    assert (red < 60) if scheme == "dark" else (red > 200), background
    png = page.screenshot(full_page=False)  # type: ignore[attr-defined]
    (tmp_path / f"index-{scheme}.png").write_bytes(png)
    assert not_blank(png) > 50
    assert problems == []


def test_status_page(site: str, browser: object) -> None:
    page, problems = visit(browser, site + "status.html", phone=False, scheme="light")
    sections = page.locator("section.source")  # type: ignore[attr-defined]
    assert sections.count() == 12
    chart = sections.first.locator("svg.chart")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 50 and box["height"] > 20
    assert 0 < chart.locator("rect").count() <= 14  # a bar for each day with entries
    bars = page.evaluate(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('svg.chart rect')]"
        ".filter(r => r.getBBox().height > 0).length"
    )
    assert bars == page.locator("svg.chart rect").count(), "every bar drawn is seen"  # type: ignore[attr-defined]
    assert not_blank(page.screenshot()) > 20  # type: ignore[attr-defined]
    assert problems == []
