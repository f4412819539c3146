"""A fault-injecting server: one route per hostile or broken case, each polled in a run
beside a healthy source. Each gets its classified error and nothing else: the deadline and
caps hold (time and memory), and the healthy source is stored."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import FeedServer, Route, drip, endless

HEALTHY = rss([{"title": "Healthy", "link": "https://ok.example/1", "guid": "ok-1"}])


def bomb(size: int = 1024 * 2**20) -> bytes:
    """A gzip body that inflates to `size` bytes (1 GiB from about 1 MiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * 2**20
    parts = [packer.compress(b"<rss>")]
    parts += [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, packer.flush()])


LAUGHS = (
    "<?xml version='1.0'?><!DOCTYPE rss ["
    + '<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]><rss version='2.0'><channel><title>&l9;</title><item><title>&l9;</title>"
    "<guid>x</guid></item></channel></rss>"
).encode()


def xxe(secret: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&x;</title>'
        "<guid>xxe-1</guid><description>&x;</description></item></channel></rss>"
    ).encode()


def page(link: str | None) -> bytes:
    head = f'<link rel="alternate" type="application/rss+xml" href="{link}">' if link else ""
    html = f"<!DOCTYPE html><html><head><title>Blog</title>{head}</head><body>Hi</body></html>"
    return html.encode()


# name -> (route, expected report line fragment, seconds the whole run may take)
CASES = {
    "drip": (Route(stream=drip(every=0.5, limit=30)), "FAIL  hostile: timeout", 12),
    "endless": (Route(stream=endless()), "FAIL  hostile: too_large", 30),
    "bomb": (Route(body=bomb(), headers={"Content-Encoding": "gzip"}), "too_large", 30),
    "loop": (Route(status=302, headers={"Location": "/hostile.xml"}), "redirect loop", 10),
    "corrupt-gzip": (
        Route(body=b"\x1f\x8b\x08\x00garbage" * 100, headers={"Content-Encoding": "gzip"}),
        "corrupt compressed",
        10,
    ),
    "empty": (Route(body=b""), "FAIL  hostile: empty", 10),
    "short": (
        Route(
            body=b"<rss version='2.0'><channel>",
            headers={"Content-Length": "5000", "Connection": "close"},
        ),
        "FAIL  hostile: network",
        10,
    ),
    "html": (
        Route(body=page(None), headers={"Content-Type": "text/html"}),
        "FAIL  hostile: not_a_feed: an HTML page",
        10,
    ),
    "not-found": (Route(status=404), "FAIL  hostile: gone: HTTP 404", 10),
    "gone": (Route(status=410), "disabled: remove it from feeds.yaml", 10),
    "rate-limited": (Route(status=429, headers={"Retry-After": "120"}), "rate_limited", 10),
    "unavailable": (Route(status=503, headers={"Retry-After": "60"}), "http_5xx: HTTP 503", 10),
    "laughs": (Route(body=LAUGHS), "FAIL  hostile: xml_bomb: a DTD declares an entity", 10),
    "wrong-type": (
        Route(body=HEALTHY.replace(b"ok-1", b"wt-1"), headers={"Content-Type": "text/html"}),
        "ok    hostile: 1 new",
        10,
    ),
    "latin1": (
        Route(
            body=rss([{"title": "Caf\u00e9", "guid": "l1"}]).replace(
                "Caf\u00e9".encode(), b"Caf\xe9"
            ),
            headers={"Content-Type": "application/xml; charset=utf-8"},
        ),
        "ok    hostile: 1 new",
        10,
    ),
}


# The real CLI, reporting its own peak memory when it exits. VmHWM, not getrusage: after
# fork and exec, ru_maxrss still counts the parent's (pytest's) resident set at the fork.
MEASURED = (
    "import atexit, re, sys\n"
    "atexit.register(lambda: print('MAXRSS=%s' % re.search(r'VmHWM:\\s+(\\d+)', "
    "open('/proc/self/status').read()).group(1), file=sys.stderr))\n"
    "sys.argv[0] = 'aggregator'\n"
    "from aggregator.cli import main\n"
    "main()\n"
)


def run_with(tmp_path: Path, server: FeedServer, route: Route) -> tuple[str, float]:
    server.routes["/healthy.xml"] = Route(body=HEALTHY)
    server.routes["/hostile.xml"] = route
    (tmp_path / "feeds.yaml").write_text(
        "fetch: {timeout: 2, deadline: 3, max_bytes: 4MiB}\nfeeds:\n"
        f"  - {{url: {server.url('/hostile.xml')}, name: hostile}}\n"
        # On another host name: a Retry-After from the hostile one must not hold it up.
        f"  - {{url: {server.url('/healthy.xml').replace('127.0.0.1', 'localhost')}, "
        "name: healthy}\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, "run", "--once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    peak_kib = int(result.stderr.rsplit("MAXRSS=", 1)[1].split()[0])
    # Memory: nowhere near what the bomb or the endless body would need.
    assert peak_kib < 300 * 1024, peak_kib
    return result.stdout, seconds


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_route(tmp_path, feed_server, case):
    route, expected, limit = CASES[case]
    stdout, seconds = run_with(tmp_path, feed_server, route)
    assert expected in stdout
    assert "ok    healthy: 1 new" in stdout
    assert seconds < limit
    guids = {
        json.loads(x)["guid"]
        for x in run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    }
    assert "ok-1" in guids
    if expected.startswith("FAIL"):
        assert guids == {"ok-1"}  # nothing of the hostile document is stored


def test_autodiscovery_follows_the_page_once(tmp_path, feed_server):
    feed_server.routes["/feed.xml"] = Route(body=rss([{"title": "Found", "guid": "f-1"}]))
    stdout, _ = run_with(
        tmp_path, feed_server, Route(body=page("/feed.xml"), headers={"Content-Type": "text/html"})
    )
    assert "ok    hostile: 1 new" in stdout
    hint = f"replace url {feed_server.url('/hostile.xml')} with {feed_server.url('/feed.xml')}"
    assert hint in stdout
    assert hint in run_cli("status", cwd=tmp_path).stdout


def test_external_entities_are_never_read(tmp_path, feed_server):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    stdout, _ = run_with(tmp_path, feed_server, Route(body=xxe(secret)))
    assert "ok    healthy" in stdout
    exported = run_cli("export", "entries", cwd=tmp_path).stdout
    assert "TOP-SECRET" not in exported
    assert "TOP-SECRET" not in (tmp_path / "output" / "feed.atom").read_text()


def test_gone_disables_and_permanent_moves_are_followed_after_three_polls(tmp_path, feed_server):
    feed_server.routes["/old.xml"] = Route(status=301, headers={"Location": "/new.xml"})
    feed_server.routes["/new.xml"] = Route(body=HEALTHY)
    feed_server.routes["/gone.xml"] = Route(status=410)
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - {{url: {feed_server.url('/old.xml')}, name: moved}}\n"
        f"  - {{url: {feed_server.url('/gone.xml')}, name: gone}}\n"
    )
    notes = [run_cli("run", "--once", "--all", cwd=tmp_path).stdout for _ in range(4)]
    assert "(1 of 3 polls)" in notes[0] and "(2 of 3 polls)" in notes[1]
    assert "now fetched there" in notes[2]
    assert len(feed_server.requests_for("/old.xml")) == 3  # then fetched at the new place
    assert len(feed_server.requests_for("/gone.xml")) == 1  # disabled after its 410
    rows = {
        r["name"]: r
        for r in map(json.loads, run_cli("status", "--json", cwd=tmp_path).stdout.splitlines())
    }
    assert rows["moved"]["fetched_from"] == feed_server.url("/new.xml")
    assert any("replace url" in s for s in rows["moved"]["suggestions"])
    assert rows["gone"]["state"] == "disabled"
    assert any(s.startswith("remove") for s in rows["gone"]["suggestions"])


def test_temporary_redirects_never_move_a_source(tmp_path, feed_server):
    feed_server.routes["/a.xml"] = Route(status=302, headers={"Location": "/b.xml"})
    feed_server.routes["/b.xml"] = Route(body=HEALTHY)
    (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feed_server.url('/a.xml')}\n")
    for _ in range(4):
        run_cli("run", "--once", "--all", cwd=tmp_path)
    assert len(feed_server.requests_for("/a.xml")) == 4
