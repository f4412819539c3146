"""A deterministic feed farm for the benchmarks, served on 127.0.0.1.

N feeds x E entries; feed f is RSS 2.0, Atom 1.0 or RSS 1.0 by f % 3; HTML summaries of
300-1500 characters, full content in every fourth feed; about 5% of entries are
cross-posts of another feed's entry (its link with tracking parameters, an edited
headline). `FarmServer.change(fraction)` gives that fraction of the feeds two new entries
(the oldest two drop off). Served like a well-behaved publisher: ETag, Last-Modified, 304
to a conditional request, gzip when accepted.
"""

from __future__ import annotations

import gzip
import random
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import accumulate
from xml.sax.saxutils import escape

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
FORMATS = ("rss2", "atom", "rss1")
TYPES = {
    "rss2": "application/rss+xml",
    "atom": "application/atom+xml",
    "rss1": "application/rdf+xml",
}


class Farm:
    def __init__(self, feeds: int, entries: int, seed: int = 2026) -> None:
        self.feeds, self.entries, self.seed = feeds, entries, seed
        rng = random.Random(seed)
        self.words = [_word(rng) for _ in range(6000)]
        self.weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.words))))
        self.version = [0] * feeds

    def _entry(self, f: int, e: int) -> dict[str, str]:
        rng = random.Random(self.seed * 1_000_003 + f * 10_007 + e)
        if rng.random() < 0.05 and self.feeds > 1:  # a cross-post of another feed's entry
            g = (f + 1 + rng.randrange(self.feeds - 1)) % self.feeds
            original = self._own_entry(g, e)
            original["link"] += "?utm_source=rss&utm_medium=feed&utm_campaign=syndication"
            original["title"] = original["title"].replace(" ", " - ", 1) + " (update)"
            original["id"] = f"urn:farm:{f}:{e}:xpost"
            return original
        return self._own_entry(f, e)

    def _own_entry(self, f: int, e: int) -> dict[str, str]:
        rng = random.Random(self.seed * 7_919 + f * 104_729 + e)
        title = " ".join(rng.choices(self.words, cum_weights=self.weights, k=rng.randint(6, 11)))
        target = rng.randint(300, 1500)
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            sentence = " ".join(rng.choices(self.words, cum_weights=self.weights, k=14))
            if rng.random() < 0.3:
                sentence += f' <a href="https://ref{f}.example/{e}/{len(parts)}">source</a>'
            parts.append(f"<p>{sentence.capitalize()}.</p>")
        content = ""
        if f % 4 == 0:
            body = " ".join(rng.choices(self.words, cum_weights=self.weights, k=500))
            content = f"<p>{body}</p><blockquote><p>{title}</p></blockquote>"
        return {
            "id": f"urn:farm:{f}:{e}",
            "title": title.capitalize(),
            "link": f"https://f{f}.example/{e}",
            "summary": "".join(parts),
            "content": content,
            "date": format_datetime(_when(f, e), usegmt=True),
            "iso": _when(f, e).isoformat().replace("+00:00", "Z"),
        }

    def body(self, f: int) -> bytes:
        """Feed f at its current version: entries newest first, each change adds two."""
        top = self.version[f] * 2
        entries = [self._entry(f, e) for e in range(top + self.entries - 1, top - 1, -1)]
        fmt = FORMATS[f % 3]
        return _render(fmt, f, entries).encode("utf-8")


def _when(f: int, e: int) -> datetime:
    """Entry e of a feed is five minutes newer than entry e - 1; about a day old at e = 0."""
    return NOW - timedelta(minutes=5 * (300 - e) + f % 60)


def _word(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ren", "tor", "vex", "sa", "del", "pra", "zu", "nor", "fen"]
    return "".join(rng.choices(syllables, k=rng.randint(1, 4)))


def _render(fmt: str, f: int, entries: list[dict[str, str]]) -> str:
    if fmt == "atom":
        items = "".join(
            f"<entry><id>{e['id']}</id><title>{escape(e['title'])}</title>"
            f'<link href="{escape(e["link"])}"/><updated>{e["iso"]}</updated>'
            f'<summary type="html">{escape(e["summary"])}</summary>'
            + (f'<content type="html">{escape(e["content"])}</content>' if e["content"] else "")
            + "</entry>"
            for e in entries
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:farm:{f}</id><title>Farm feed {f}</title><updated>{NOW.isoformat()}</updated>"
            f'<link href="https://f{f}.example/"/><author><name>F{f}</name></author>{items}</feed>'
        )
    if fmt == "rss1":
        seq = "".join(f'<rdf:li rdf:resource="{escape(e["link"])}"/>' for e in entries)
        items = "".join(
            f'<item rdf:about="{escape(e["link"])}"><title>{escape(e["title"])}</title>'
            f"<link>{escape(e['link'])}</link><dc:date>{e['iso']}</dc:date>"
            f"<description>{escape(e['summary'])}</description>"
            + (f"<content:encoded>{escape(e['content'])}</content:encoded>" if e["content"] else "")
            + "</item>"
            for e in entries
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f'<channel rdf:about="https://f{f}.example/"><title>Farm feed {f}</title>'
            f"<link>https://f{f}.example/</link><description>d</description>"
            f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>{items}</rdf:RDF>"
        )
    items = "".join(
        f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
        f'<guid isPermaLink="false">{e["id"]}</guid><pubDate>{e["date"]}</pubDate>'
        f"<description>{escape(e['summary'])}</description>"
        + (f"<content:encoded>{escape(e['content'])}</content:encoded>" if e["content"] else "")
        + "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Farm feed {f}</title><link>https://f{f}.example/</link>"
        f"<description>d</description>{items}</channel></rss>"
    )


class FarmServer:
    """Serves a Farm; bodies are built once per version and kept with their gzip form."""

    def __init__(self, farm: Farm) -> None:
        self.farm = farm
        self.cache: dict[int, tuple[int, bytes, bytes]] = {}
        self.lock = threading.Lock()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                name = self.path.strip("/").removesuffix(".xml")
                if not name.startswith("f") or not name[1:].isdigit():
                    self.send_error(404)
                    return
                f = int(name[1:])
                if f >= farm.feeds:
                    self.send_error(404)
                    return
                raw, packed, version = outer.get(f)
                etag = f'"f{f}-v{version}"'
                modified = format_datetime(NOW + timedelta(minutes=version), usegmt=True)
                with outer.lock:
                    outer.requests += 1
                if self.headers.get("If-None-Match") == etag or (
                    "If-None-Match" not in self.headers
                    and self.headers.get("If-Modified-Since") == modified
                ):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                zipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
                data = packed if zipped else raw
                self.send_response(200)
                self.send_header("Content-Type", TYPES[FORMATS[f % 3]] + "; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                if zipped:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def get(self, f: int) -> tuple[bytes, bytes, int]:
        version = self.farm.version[f]
        with self.lock:
            cached = self.cache.get(f)
        if cached is None or cached[0] != version:
            raw = self.farm.body(f)
            cached = (version, raw, gzip.compress(raw, 6))
            with self.lock:
                self.cache[f] = cached
        return cached[1], cached[2], version

    def prebuild(self) -> int:
        """Build every body now (not while a measured client waits); returns total bytes."""
        return sum(len(self.get(f)[0]) for f in range(self.farm.feeds))

    def change(self, fraction: float) -> int:
        rng = random.Random(sum(self.farm.version) + 17)
        chosen = rng.sample(range(self.farm.feeds), round(self.farm.feeds * fraction))
        for f in chosen:
            self.farm.version[f] += 1
            self.get(f)
        return len(chosen)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def urls(self) -> list[str]:
        return [f"{self.base}/f{f}.xml" for f in range(self.farm.feeds)]

    def __enter__(self) -> FarmServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
