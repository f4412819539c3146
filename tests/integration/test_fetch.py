"""fetch against a real loopback server: politeness, caps, deadlines, classification."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from datetime import timedelta

import pytest

from aggregator.config import DEFAULT_USER_AGENT
from aggregator.errors import FeedError, FeedErrorKind
from aggregator.fetch.http import Fetcher, cache_lifetime, leads_to_private, parse_retry_after
from aggregator.records import FeedSource, FeedState, FetchSettings
from aggregator.run.decide import Deferred, Fetched, FetchFailed
from aggregator.run.poll import HostGate, update_feed
from tests.feeds import rss
from tests.feedserver import Route, drip, endless

BODY = rss([{"title": "t", "link": "https://e.example/1", "guid": "1"}])


def fetcher(**kw: float) -> Fetcher:
    return Fetcher(FetchSettings(user_agent=DEFAULT_USER_AGENT, **kw))  # type: ignore[arg-type]


def fail(fetch: Fetcher, url: str, now) -> FeedError:
    with pytest.raises(FeedError) as info:
        fetch.fetch_feed(url, None, now)
    return info.value


def test_conditional_get_and_304(feed_server, now):
    feed_server.routes["/f"] = Route(
        body=BODY, etag='"abc"', last_modified="Sat, 28 Nov 2026 09:00:00 GMT"
    )
    f = fetcher()
    first = f.fetch_feed(feed_server.url("/f"), None, now)
    assert (first.status, first.not_modified, first.body) == (200, False, BODY)
    assert first.etag == '"abc"'
    state = FeedState(url=feed_server.url("/f"), etag=first.etag, last_modified=first.last_modified)
    second = f.fetch_feed(feed_server.url("/f"), state, now)
    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    request = feed_server.requests_for("/f")[-1]
    assert request.headers["If-None-Match"] == '"abc"'
    assert request.headers["If-Modified-Since"] == "Sat, 28 Nov 2026 09:00:00 GMT"
    assert "gzip" in request.headers["Accept-Encoding"]


def test_gzip_body_is_decoded(feed_server, now):
    feed_server.routes["/gz"] = Route(body=BODY, gzip=True)
    assert fetcher().fetch_feed(feed_server.url("/gz"), None, now).body == BODY


def test_redirects_are_followed_and_final_url_kept(feed_server, now):
    feed_server.routes["/old"] = Route(status=301, headers={"Location": "/new"})
    feed_server.routes["/new"] = Route(body=BODY)
    result = fetcher().fetch_feed(feed_server.url("/old"), None, now)
    assert result.final_url == feed_server.url("/new")
    assert result.url == feed_server.url("/old")


def test_redirect_loop_is_bounded(feed_server, now):
    feed_server.routes["/a"] = Route(status=302, headers={"Location": "/b"})
    feed_server.routes["/b"] = Route(status=302, headers={"Location": "/a"})
    error = fail(fetcher(max_redirects=5), feed_server.url("/a"), now)
    assert error.kind is FeedErrorKind.NETWORK
    assert "redirect loop" in error.message
    assert len(feed_server.requests) == 2  # noticed when /a came round again


def test_a_long_redirect_chain_is_bounded(feed_server, now):
    for n in range(10):
        feed_server.routes[f"/r{n}"] = Route(status=307, headers={"Location": f"/r{n + 1}"})
    error = fail(fetcher(max_redirects=5), feed_server.url("/r0"), now)
    assert "more than 5 redirects" in error.message
    assert len(feed_server.requests) == 6


def test_permanent_and_temporary_redirects(feed_server, now):
    feed_server.routes["/moved"] = Route(status=301, headers={"Location": "/step"})
    feed_server.routes["/step"] = Route(status=308, headers={"Location": "/new"})
    feed_server.routes["/temp"] = Route(status=302, headers={"Location": "/new"})
    feed_server.routes["/mixed"] = Route(status=301, headers={"Location": "/temp"})
    feed_server.routes["/new"] = Route(body=BODY)
    f = fetcher()
    assert f.fetch_feed(feed_server.url("/moved"), None, now).moved_to == feed_server.url("/new")
    assert f.fetch_feed(feed_server.url("/temp"), None, now).moved_to is None
    assert f.fetch_feed(feed_server.url("/mixed"), None, now).moved_to is None


def test_redirects_into_private_space_are_refused_from_public_sources():
    assert leads_to_private("https://93.184.215.14/feed", "http://127.0.0.1/admin")
    assert leads_to_private("https://93.184.215.14/feed", "http://10.0.0.5/")
    assert leads_to_private("https://93.184.215.14/feed", "http://169.254.169.254/latest")
    assert leads_to_private("https://93.184.215.14/feed", "http://[::1]/")
    assert not leads_to_private("https://93.184.215.14/feed", "https://93.184.215.15/feed")
    # A source the operator put on a private address may redirect within private space.
    assert not leads_to_private("http://127.0.0.1:8080/feed", "http://127.0.0.1:8081/feed")


def test_cache_lifetime(now):
    assert cache_lifetime({"Cache-Control": "public, max-age=900"}, now) == 900
    assert cache_lifetime({"Expires": "Sat, 28 Nov 2026 13:00:00 GMT"}, now) == 3600
    assert cache_lifetime({"Cache-Control": "no-cache"}, now) is None


def test_corrupt_gzip_is_classified(feed_server, now):
    feed_server.routes["/corrupt"] = Route(
        body=b"\x1f\x8b\x08\x00 not gzip at all" * 50, headers={"Content-Encoding": "gzip"}
    )
    error = fail(fetcher(), feed_server.url("/corrupt"), now)
    assert error.kind is FeedErrorKind.NETWORK
    assert "corrupt" in error.message


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, FeedErrorKind.GONE),
        (410, FeedErrorKind.GONE),
        (403, FeedErrorKind.HTTP_4XX),
        (500, FeedErrorKind.HTTP_5XX),
        (502, FeedErrorKind.HTTP_5XX),
    ],
)
def test_http_errors_are_classified(feed_server, now, status, kind):
    feed_server.routes["/e"] = Route(status=status, body=b"error page")
    assert fail(fetcher(), feed_server.url("/e"), now).kind is kind


def test_429_carries_retry_after(feed_server, now):
    feed_server.routes["/slow-down"] = Route(status=429, headers={"Retry-After": "120"})
    error = fail(fetcher(), feed_server.url("/slow-down"), now)
    assert error.kind is FeedErrorKind.RATE_LIMITED
    assert error.retry_after == 120


def test_retry_after_http_date(now):
    assert parse_retry_after("Sat, 28 Nov 2026 12:10:00 GMT", now) == 600
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now) == 0


def test_empty_body_is_an_error_not_an_empty_feed(feed_server, now):
    feed_server.routes["/empty"] = Route(body=b"   \n")
    assert fail(fetcher(), feed_server.url("/empty"), now).kind is FeedErrorKind.EMPTY


def test_declared_too_large_is_refused_before_reading(feed_server, now):
    feed_server.routes["/big"] = Route(body=b"x" * 50_000)
    error = fail(fetcher(max_bytes=10_000), feed_server.url("/big"), now)
    assert error.kind is FeedErrorKind.TOO_LARGE
    assert "Content-Length" in error.message


def test_endless_body_is_cut_at_the_cap(feed_server, now):
    feed_server.routes["/endless"] = Route(stream=endless())
    started = time.monotonic()
    error = fail(fetcher(max_bytes=2 * 2**20), feed_server.url("/endless"), now)
    assert error.kind is FeedErrorKind.TOO_LARGE
    assert time.monotonic() - started < 10


def test_gzip_bomb_is_cut_after_decompression(feed_server, now):
    bomb = gzip.compress(b"<rss>" + b" " * (100 * 2**20))  # 100 MiB in about 100 KiB
    assert len(bomb) < 200_000
    feed_server.routes["/bomb"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    error = fail(fetcher(max_bytes=5 * 2**20), feed_server.url("/bomb"), now)
    assert error.kind is FeedErrorKind.TOO_LARGE


def test_a_dripping_server_is_cut_off_at_the_deadline(feed_server, now):
    # One byte every 0.2 s never trips the 5 s read timeout; the 2 s deadline must.
    feed_server.routes["/drip"] = Route(stream=drip(every=0.2, limit=20))
    started = time.monotonic()
    error = fail(fetcher(deadline=2.0, read_timeout=5.0), feed_server.url("/drip"), now)
    elapsed = time.monotonic() - started
    assert error.kind is FeedErrorKind.TIMEOUT
    assert 1.9 < elapsed < 4


def test_a_silent_server_times_out(now):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    try:
        started = time.monotonic()
        error = fail(fetcher(read_timeout=0.5), url, now)
        assert error.kind is FeedErrorKind.TIMEOUT
        assert time.monotonic() - started < 3
    finally:
        listener.close()


def test_body_shorter_than_content_length(now):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>short")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
        assert fail(fetcher(), url, now).kind is FeedErrorKind.NETWORK
    finally:
        thread.join(5)
        listener.close()


def test_connection_refused_is_a_network_error(now):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    error = fail(fetcher(), f"http://127.0.0.1:{port}/feed", now)
    assert error.kind is FeedErrorKind.NETWORK


def page_to(feed_url: str) -> Route:
    html = f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed_url}">'
    return Route(body=html.encode(), headers={"Content-Type": "text/html"})


def test_a_discovered_feed_on_another_host_is_polite_to_that_host(feed_server, now):
    """The page is on 127.0.0.1, the feed it advertises on localhost (another host name,
    the same server): the feed's host is the one deferred to and blocked by a 429."""
    feed_url = f"http://localhost:{feed_server.httpd.server_address[1]}/feed.xml"
    feed_server.routes["/page"] = page_to(feed_url)
    source = FeedSource(url=feed_server.url("/page"), name="page")
    gate = HostGate(per_host=1)
    later = now + timedelta(hours=1)

    gate.block("localhost", later)  # the feed's host asked us to wait
    update = update_feed(source, None, fetcher(), now, gate)
    assert update == Deferred(until=later)
    assert feed_server.requests_for("/feed.xml") == []

    gate = HostGate(per_host=1)
    feed_server.routes["/feed.xml"] = Route(status=429, headers={"Retry-After": "120"})
    update = update_feed(source, None, fetcher(), now, gate)
    assert isinstance(update, FetchFailed) and update.error.kind is FeedErrorKind.RATE_LIMITED
    assert gate.blocked_until("localhost", now) == now + timedelta(seconds=120)
    assert gate.blocked_until("127.0.0.1", now) is None  # the page's host is not to blame

    feed_server.routes["/feed.xml"] = Route(body=BODY)
    gate = HostGate(per_host=1)
    update = update_feed(source, None, fetcher(), now, gate)
    assert isinstance(update, Fetched)
    assert update.discovered_url == feed_url and len(update.items) == 1
