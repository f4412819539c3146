"""websub: tell a WebSub hub (W3C WebSub 1.0) that feeds changed. I/O: one POST per feed
URL, `hub.mode=publish`, bounded by the fetch timeouts. A hub that fails is logged and
never fails the run: subscribers still poll."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests

from aggregator.records import Config

log = logging.getLogger("aggregator")


def ping_hub(hub: str, topics: Sequence[str], config: Config) -> int:
    """Returns how many pings the hub accepted (2xx)."""
    accepted = 0
    s = config.fetch
    with requests.Session() as session:
        session.headers["User-Agent"] = s.user_agent
        for topic in topics:
            try:
                response = session.post(
                    hub,
                    data={"hub.mode": "publish", "hub.url": topic},
                    timeout=(s.connect_timeout, s.read_timeout),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                log.warning("websub: %s: %s", hub, exc)
                return accepted
            if 200 <= response.status_code < 300:
                accepted += 1
            else:
                log.warning("websub: %s answered %d for %s", hub, response.status_code, topic)
    log.info("websub: %d of %d feed(s) announced to %s", accepted, len(topics), hub)
    return accepted
