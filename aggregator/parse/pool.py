"""parsing: bytes of a feed -> its title, ttl and normalised items, in this process or in a
pool of processes (one per core) so that parsing is not held to one core by the GIL.

Pure at heart (`parse_and_normalise`); `ParserPool` is the I/O of handing work to other
processes. A FeedError crosses the process boundary as plain values and is raised again
here, so callers see the same classified error either way.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.records import Item


@dataclass(frozen=True, slots=True)
class Parsed:
    title: str | None
    ttl: float | None
    items: tuple[Item, ...]
    broken: str | None = None  # see ParsedFeed.broken


PR_SET_PDEATHSIG = 1  # prctl(2)
Parser = Callable[[bytes, str, str, str, datetime], Parsed]


def parse_and_normalise(
    body: bytes, content_type: str, final_url: str, source_url: str, now: datetime
) -> Parsed:
    """The feed's items, each with its vector (the story engine's view of it): embedding
    is done here, where parsing is, in the parser processes beside the fetches, so that
    the run's own process never loads the tokenizer or holds a batch's texts."""
    # Imported on first use: a run in which nothing changed never loads the parsers.
    from aggregator.parse.feed import parse_feed
    from aggregator.parse.normalise import normalise_entries
    from aggregator.stories.vectors import encode

    parsed = parse_feed(body, {"content-type": content_type})
    items = normalise_entries(parsed, source_url=source_url, base_url=final_url, now=now)
    packed = encode([(i.title, i.text, i.signature) for i in items]) if items else []
    return Parsed(
        title=parsed.title,
        ttl=parsed.ttl,
        items=tuple(replace(i, vector=v) for i, v in zip(items, packed, strict=True)),
        broken=parsed.broken,
    )


def _in_worker(
    body: bytes, content_type: str, final_url: str, source_url: str, now: datetime
) -> Parsed | tuple[str, str]:
    try:
        return parse_and_normalise(body, content_type, final_url, source_url, now)
    except FeedError as error:
        return error.kind.value, error.message
    finally:
        release_memory()


def _malloc_trim() -> Callable[[], object]:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    return lambda: trim(0)


release_memory = _malloc_trim()  # hand freed memory back to the system (glibc)


def _worker_start() -> None:
    """A parser process ends with its parent, even a parent killed with SIGKILL. (It holds
    none of the writer's locks: `run.lock` drops them in every forked child.)"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pool's own checks remain
        pass
    if os.getppid() == 1:  # the parent died before the line above
        os._exit(0)


class ParserPool:
    """`processes` worker processes, forked at once, while the caller has no other thread
    (a fork of a process whose threads hold locks can deadlock): create it before starting
    the fetch threads. Forked workers share the parent's loaded code, start in
    milliseconds, and are the parent's children (their CPU time is the run's)."""

    def __init__(self, processes: int) -> None:
        import aggregator.parse.feed
        import aggregator.parse.normalise  # noqa: F401 - loaded once here, shared by the workers

        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            max_workers=processes, mp_context=context, initializer=_worker_start
        )
        # The objects that exist at the fork stay out of the collector's reach while the
        # pool lives: a collection in a worker or here would write to, and so copy, every
        # page they live on, which the two sides otherwise share.
        gc.freeze()
        # Every process is started now: submit more tasks than processes and wait.
        for future in [self._pool.submit(os.getpid) for _ in range(processes * 2)]:
            future.result()

    def __call__(
        self, body: bytes, content_type: str, final_url: str, source_url: str, now: datetime
    ) -> Parsed:
        outcome = self._pool.submit(
            _in_worker, body, content_type, final_url, source_url, now
        ).result()
        if isinstance(outcome, tuple):
            raise FeedError(FeedErrorKind(outcome[0]), outcome[1])
        return outcome

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def pool_size(feeds: int, setting: int | None) -> int:
    """Worker processes for a run of `feeds` polls: `setting` (fetch.processes) if given,
    else one per core when there is enough work to pay for starting them (0: in process)."""
    if setting is not None:
        return setting
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) if feeds >= 20 and (cores or 1) > 1 else 0
