"""pipeline: run_once() wires the stages in order and decides nothing itself.

poll (poll.py: fetch -> parse -> normalise in worker threads; store in this thread, one
transaction per feed) -> dedupe -> score -> related -> publish.
A FeedError stays with its feed: it is recorded on the source and the run goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aggregator.fetch.http import Fetcher
from aggregator.health.metrics import (
    DAYS,
    SourceHealth,
    render_metrics,
    source_health,
    why_nothing_published,
)
from aggregator.health.pages import (
    OPERATOR_FEED,
    STATUS_PAGE,
    render_operator_feed,
    render_status_page,
)
from aggregator.parse.pool import release_memory
from aggregator.publish.archive import archive_entries, page_name, render_page, week_of
from aggregator.publish.digest import FEED_FILE, DigestItem, build_digest
from aggregator.publish.feeds import render_outputs, write_atomic, write_outputs
from aggregator.publish.websub import announce_changes
from aggregator.records import (
    Config,
    OutputSettings,
    RunReport,
    Score,
    ScoredStory,
    StoredEntry,
    Story,
)
from aggregator.rules import boosts, is_wanted, reads_text
from aggregator.run.poll import Progress, poll_feeds
from aggregator.run.scheduler import due_feeds
from aggregator.score import score_story
from aggregator.store import Store
from aggregator.stories.members import group_stories

log = logging.getLogger("aggregator")


def run_once(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    *,
    poll_all: bool = False,
    progress: Progress | None = None,
    publish: bool = True,
) -> RunReport:
    """Poll the due sources, then (unless `publish` is off: poll-only runs leave the rest
    to the next full one) process, publish and report health."""
    store.sync_sources(config.sources)
    states = store.feed_states()
    if config.workers.broker is not None:  # the workers poll; this run waits for them
        from aggregator.run.tasks import poll_on_workers

        reports = poll_on_workers(store, config, now, poll_all=poll_all)
    else:
        due = due_feeds(config.sources, states, now, poll_all=poll_all)
        reports = poll_feeds(due, states, store, fetcher, now, config, progress=progress)
    if not publish:
        return RunReport(feeds=reports)
    stamp = publish_stamp(config, store)
    kept = kept_outputs(config.output_dir, stamp, now)
    if kept is not None:  # nothing changed since a recent publish: the outputs stand
        count, at = kept
        note: str | None = f"nothing new since the last publish ({at:%H:%M} UTC): outputs kept"
        report = RunReport(feeds=reports, published=count, note=note)
        report_health(config, store, now, report, collect_health(config, store, now))
        return report
    published = process_and_publish(config, store, now)
    announce_changes(config.publish, published.changed, fetcher)
    made = publish_stamp(config, store)  # after grouping, which the stamp counts
    count = len(published.stories)
    write_atomic(config.output_dir / STAMP, f"{made} {count} {now.isoformat()}\n".encode())
    health = collect_health(config, store, now)
    note = None if count else why_nothing_published(health, config.publish.window, now)
    report = RunReport(feeds=reports, published=count, note=note)
    report_health(config, store, now, report, health)
    return report


STAMP = ".published"  # in the output folder: what the outputs were made from, and when
KEEP_FOR = timedelta(hours=1)  # outputs of unchanged data are remade after this (scores age)


def publish_stamp(config: Config, store: Store) -> str:
    """What the outputs are made from: the configuration and the store's entries (their
    count, newest id, and latest change). Equal stamps make equal outputs, but for time."""
    digest = hashlib.sha256(repr(config).encode())
    digest.update(repr(store.fingerprint()).encode())
    return digest.hexdigest()


def kept_outputs(output: Path, stamp: str, now: datetime) -> tuple[int, datetime] | None:
    """(stories published, when) if the outputs were made from `stamp` less than
    KEEP_FOR ago and are all still there; else None (publish again)."""
    try:
        made, count, at = (output / STAMP).read_text().split()
        when = datetime.fromisoformat(at)
    except (OSError, ValueError):
        return None
    if made != stamp or not timedelta(0) <= now - when < KEEP_FOR:
        return None
    if not (output / FEED_FILE).exists():
        return None
    return int(count), when


def collect_health(config: Config, store: Store, now: datetime) -> list[SourceHealth]:
    return source_health(
        config,
        store.feed_states(),
        store.entry_counts(),
        store.latest_published(),
        store.daily_counts(since=now - timedelta(days=DAYS)),
        now,
    )


def report_health(
    config: Config,
    store: Store,
    now: datetime,
    run: RunReport | None,
    health: Sequence[SourceHealth] | None = None,
) -> None:
    """The operators' view after a run: the status page, the operator feed (if asked
    for) and the Prometheus textfile (if configured)."""
    health = collect_health(config, store, now) if health is None else health
    out = config.output_dir
    write_atomic(out / STATUS_PAGE, render_status_page(health, config.publish, now).encode())
    if config.publish.operator_feed:
        write_atomic(out / OPERATOR_FEED, render_operator_feed(health, config.publish, now))
    if config.metrics_file is not None:
        write_atomic(config.metrics_file, render_metrics(health, now, run).encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What a publish made: the main feed's stories, best first, and the output files
    whose bytes changed (what a WebSub hub is told about, at the write edge)."""

    stories: tuple[ScoredStory, ...]
    changed: tuple[str, ...]


def process_and_publish(config: Config, store: Store, now: datetime) -> Published:
    """Put new entries into stories, score the recent stories, link related ones, file
    the main feed's items in the archive, and write the outputs."""
    # The story engine (numpy, scipy) is imported here: a run that publishes nothing new
    # (the outputs kept) never loads it.
    from aggregator.stories.related import related_stories

    group_new_entries(config, store, now)
    release_memory()
    sources = {s.url: s for s in config.sources}

    # Every story of the window is ranked on light rows; only those shown are read in full.
    since = now - config.publish.window
    window = store.window_stories(since=since)
    created = {i: w.created for i, w in window.items()}

    def wanted_of(entries: Sequence[StoredEntry]) -> tuple[Story, ...]:
        kept = [e for e in entries if is_wanted(e, sources, config.rules, config.max_age, now)]
        return group_stories(kept, created, config.dedupe.representative)

    texts = reads_text(config.sources, config.rules)
    stories = wanted_of(store.story_members(since=since, light=True, texts=texts))
    scores = {
        s.id: score_story(
            s, config.score, now, boost=sum(r.points for r in boosts(s, sources, config.rules))
        )
        for s in stories
    }
    # A score is written when it changed (most do not between two runs minutes apart).
    store.save_scores(
        {i: v for i, v in scores.items() if i not in window or not window[i].scored(v)}, now=now
    )
    ranked = sorted(stories, key=lambda s: (-scores[s.id].value, -s.updated.timestamp(), s.id))
    chosen = {o.name: select_stories(ranked, scores, o) for o in config.publish.all_outputs}
    wanted = {s.id for picked in chosen.values() for s in picked}
    found = related_stories(stories, wanted, config.publish.related, config.dedupe)
    related = {i: tuple(o for o, _ in links) for i, links in found.items()}
    shown = wanted | {r for links in related.values() for r in links}
    by_id = {s.id: s for s in wanted_of(store.stories_of(shown))}
    scored = {
        i: ScoredStory(
            story=by_id[i], score=scores[i], related=tuple(by_id[r] for r in related.get(i, ()))
        )
        for i in wanted
    }
    feeds = [
        (o, build_digest([scored[s.id] for s in chosen[o.name]]))
        for o in config.publish.all_outputs
    ]
    pages, newest = archive_pages(store, feeds[0][1], config, now)
    files = render_outputs(feeds, config.publish, now, archive=newest) | pages
    changed = write_outputs(config.output_dir, files)
    return Published(stories=tuple(scored[s.id] for s in chosen["feed"]), changed=tuple(changed))


def archive_pages(
    store: Store, main: Sequence[DigestItem], config: Config, now: datetime
) -> tuple[dict[str, bytes], str | None]:
    """File the main feed's items in the archive; return the archive pages that changed
    and the newest page's name (the main feed's prev-archive; None while there is none)."""
    touched = store.archive(archive_entries(main), week=week_of(now), now=now)
    weeks = store.archive_weeks()
    if not weeks:
        return {}, None
    pages = {}
    for at, week in enumerate(weeks):  # a changed week, and its neighbours' links
        if touched & set(weeks[max(0, at - 1) : at + 2]):
            entries = store.archive_page(week)
            pages[page_name(week)] = render_page(week, entries, weeks, config.publish, FEED_FILE)
    return pages, page_name(weeks[-1])


def select_stories(
    ranked: Sequence[Story], scores: Mapping[str, Score], output: OutputSettings
) -> list[Story]:
    """An output's stories, best first: its minimum score, any of its tags, any of its
    sources (by name), at most its size."""
    tags, names = set(output.tags), set(output.sources)
    return [
        s
        for s in ranked
        if scores[s.id].value >= output.min_score
        and (not tags or tags & set(s.tags))
        and (not names or names & set(s.source_names))
    ][: output.size]


def group_new_entries(config: Config, store: Store, now: datetime) -> int:
    """Put every entry not yet in a story into one, in one batch: each new entry's vector
    was made where it was parsed and stored with it, and the engine reads the stored
    vectors of the entries around the new ones (the dedupe window on either side) plus
    any older entry that shares a canonical URL with them: the cost grows with the window,
    never with the size of the store."""
    from aggregator.stories.grouping import assign_stories

    new = store.unassigned_points()
    if not new:
        return 0
    window = config.dedupe.window
    known = store.story_points(
        since=min(p.published for p in new) - window, until=max(p.published for p in new) + window
    )
    same_url = store.points_with_canonical_urls({p.canonical_url for p in new if p.canonical_url})
    grouping = assign_stories(new, (*same_url, *known), config.dedupe)
    store.assign_stories(grouping, now=now)
    return len(new)
