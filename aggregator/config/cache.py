"""config.cache: the parsed config of an unchanged big feeds.yaml, kept between runs. I/O.

Reading 2,000 sources with ruamel.yaml (pure Python, for its line numbers) takes 0.4 s,
a fifth of a run in which nothing changed. So a config of many sources is kept, pickled,
in the user's cache folder (XDG_CACHE_HOME, else ~/.cache), under a key made of
everything its parse depends on: the file's bytes and path, the command-line overrides,
and this package's code. A file that uses `${VAR}` is never kept (its values come from
the environment, and may be secrets). Anything wrong with the cache (missing, unreadable,
stale, not writable) just means a parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

from aggregator.records import Config

KEEP_SECONDS = 30 * 86400
MIN_LINES = 200  # a smaller file parses in under 50 ms: not worth keeping
PACKAGE = Path(__file__).resolve().parent.parent


def cached(
    path: Path, text: str, overrides: tuple[object, ...], parse: Callable[[], Config]
) -> Config:
    """The config parsed from `text`, from the cache when it was kept for the same key."""
    if "${" in text or text.count("\n") < MIN_LINES:
        return parse()
    key = _key(path, text, overrides)
    place = _folder() / f"config-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}"
    kept = _read(place, key)
    if kept is not None:
        with contextlib.suppress(OSError):
            os.utime(place)  # read now: kept another month
        return kept
    config = parse()
    try:
        place.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = place.with_suffix(f".{os.getpid()}")
        with partial.open("wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            pickle.dump((key, config), handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(place)
        for old in place.parent.glob("config-*"):  # configs not read for a month
            if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink()
    except OSError:
        pass
    return config


def _read(place: Path, key: str) -> Config | None:
    try:
        with place.open("rb") as handle:
            stored_key, config = pickle.load(handle)
    except Exception:  # missing, truncated, from another version: a cache miss
        return None
    return config if stored_key == key and isinstance(config, Config) else None


def _key(path: Path, text: str, overrides: tuple[object, ...]) -> str:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    digest.update(repr((str(path), str(path.resolve()), overrides)).encode())
    for source in sorted(PACKAGE.rglob("*.py")):  # the code that parses it
        info = source.stat()
        digest.update(f"{source}:{info.st_mtime_ns}:{info.st_size}".encode())
    return digest.hexdigest()


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aggregator"
