"""websub: tell a WebSub hub (W3C WebSub 1.0) that feeds changed. I/O, at the write edge
(after the outputs are written): one POST per changed feed, `hub.mode=publish`, on the
fetcher's HTTP stack (its User-Agent, timeouts and proxies; no redirect followed). A hub
that fails is logged and never fails the run: subscribers still poll."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urljoin

from aggregator.errors import FeedError
from aggregator.fetch.http import Fetcher
from aggregator.records import PublishSettings

log = logging.getLogger("aggregator")
FEED_KINDS = ("atom", "rss", "json")  # what a hub is told about (not pages, not archives)


def feed_topics(changed: Sequence[str], link: str) -> list[str]:
    """The URLs of the feeds among the changed output files."""
    return [
        urljoin(link, name)
        for name in changed
        if "/" not in name and name.rpartition(".")[2] in FEED_KINDS
    ]


def announce_changes(settings: PublishSettings, changed: Sequence[str], fetcher: Fetcher) -> int:
    """Ping the configured hub (if any) about the feeds among `changed`; returns how many
    pings it accepted."""
    if settings.hub is None:
        return 0
    return ping_hub(settings.hub, feed_topics(changed, settings.link), fetcher)


def ping_hub(hub: str, topics: Sequence[str], fetcher: Fetcher) -> int:
    """Returns how many pings the hub accepted (2xx)."""
    accepted = 0
    for topic in topics:
        try:
            status = fetcher.post_form(hub, {"hub.mode": "publish", "hub.url": topic})
        except FeedError as exc:
            log.warning("websub: %s: %s", hub, exc)
            return accepted
        if 200 <= status < 300:
            accepted += 1
        else:
            log.warning("websub: %s answered %d for %s", hub, status, topic)
    log.info("websub: %d of %d feed(s) announced to %s", accepted, len(topics), hub)
    return accepted
