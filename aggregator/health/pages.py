"""health_pages: SourceHealth -> the operators' status page (HTML with inline SVG charts)
and the operator feed (Atom: one entry per broken, idle or disabled source). Pure."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from aggregator.health.metrics import DAYS, ProblemKind, SourceHealth
from aggregator.health.status import SourceState
from aggregator.publish.digest import atom_id
from aggregator.publish.page import environment
from aggregator.records import PublishSettings

STATUS_PAGE = "status.html"
OPERATOR_FEED = "operator.atom"


def render_status_page(
    health: Sequence[SourceHealth], settings: PublishSettings, now: datetime
) -> str:
    """One card per source, those that need a look first; the counts in the heading are
    taken from the same cards."""
    rows = sorted(health, key=lambda h: (not h.needs_look, h.name.lower()))
    states = Counter(h.state for h in rows)
    counts = [f"{states[s]} {s}" for s in SourceState if states[s]]
    return environment.get_template(STATUS_PAGE).render(
        rows=rows,
        bars=[chart_bars(h.per_day) for h in rows],
        counts=counts,
        looks=sum(h.needs_look for h in rows),
        title=settings.title,
        days=DAYS,
        generated=now.strftime("%Y-%m-%d %H:%M UTC"),
    )


def chart_bars(per_day: Sequence[tuple[str, int]]) -> list[tuple[int, float, float, str]]:
    """A source's chart: a bar (x, y, height, tooltip) for each day that has entries, the
    tallest 30 high (a day without entries draws nothing, and costs nothing on a page of
    thousands of sources)."""
    top = max([count for _, count in per_day] + [1])
    bars = []
    for day, (when, count) in enumerate(per_day):
        if count:
            height = round(30 * count / top, 1)
            bars.append((day * 7, 31 - height, height, f"{when}: {count}"))
    return bars


def render_operator_feed(
    health: Sequence[SourceHealth], settings: PublishSettings, now: datetime
) -> bytes:
    """An entry per problem, whose id stays the same while the problem lasts (the source
    and the problem's kind, and since when it has been so), so a reader shows it once."""
    feed = FeedGenerator()
    self_url = urljoin(settings.link, OPERATOR_FEED)
    feed.id(atom_id("operator:" + self_url))
    feed.title(f"{settings.title}: sources that need a look")
    feed.author({"name": settings.author})
    feed.link(href=urljoin(settings.link, STATUS_PAGE), rel="alternate", type="text/html")
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    problems = [(h, h.problem) for h in health if h.problem is not None]
    dates = []
    for h, problem in reversed(problems):
        kind = problem.kind
        since = h.last_success if kind is ProblemKind.BROKEN else h.latest
        key = f"{h.url}|{kind}|{since.isoformat() if since else ''}"
        entry = feed.add_entry()
        entry.id("urn:aggregator:operator:" + hashlib.sha1(key.encode()).hexdigest())
        entry.title(f"{h.name}: {kind}")
        dates.append(since or now)
        entry.updated(since or now)
        entry.summary(problem.text)
        entry.link(href=h.url, rel="alternate")
    feed.updated(max(dates, default=now))  # the newest problem: unchanged problems, same file
    data: bytes = feed.atom_str(pretty=True, encoding="utf-8", xml_declaration=True)
    return data
