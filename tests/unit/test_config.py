"""config: defaults, conversions and errors with their line numbers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.config import parse_config, parse_duration, parse_size
from aggregator.errors import ConfigError

BASE = Path("/srv/agg")


def test_minimal_config_gets_defaults():
    config = parse_config("feeds:\n  - url: https://a.example/feed\n", base_dir=BASE)
    (source,) = config.sources
    assert source.name == "a.example"
    assert source.interval is None  # auto
    assert source.weight == 1.0
    assert config.store_url == "sqlite:////srv/agg/aggregator.sqlite"
    assert config.output_dir == BASE / "output"
    assert config.fetch.max_bytes == 10 * 2**20
    assert config.publish.related == 4


def test_full_config():
    text = """
store: postgresql+psycopg://u@db/agg
output: /var/www/feed
user_agent: my-agg/1.0
fetch: {timeout: 5, deadline: 20, max_bytes: 2MiB, max_redirects: 3, workers: 4}
publish: {title: Mine, link: https://me.example/, max_items: 10, window: 2d, min_score: 20}
score: {half_life: 12h, weights: {coverage: 1, source: 1, recency: 2}}
dedupe: {window: 1d, threshold: 0.4, representative: [earliest, weight]}
max_age: 10d
rules:
  - boost: 12.5
    when: {title: "open weights", tags: "^models$"}
feeds:
  - https://short.example/feed
  - url: https://a.example/feed
    name: A
    weight: 2.5
    interval: 30m
    tags: [ML, research]
    filters:
      include: [model]
      exclude: ["^sponsored"]
"""
    config = parse_config(text, base_dir=BASE, store_url=None)
    assert config.store_url == "postgresql+psycopg://u@db/agg"
    assert config.output_dir == Path("/var/www/feed")
    assert config.fetch.user_agent == "my-agg/1.0"
    assert config.fetch.max_bytes == 2 * 2**20
    assert config.publish.window == timedelta(days=2)
    assert config.score.half_life == timedelta(hours=12)
    assert config.dedupe.window == timedelta(days=1)
    assert config.dedupe.threshold == 0.4
    assert config.dedupe.representative == ("earliest", "weight")
    assert config.max_age == timedelta(days=10)
    (boost,) = config.rules
    assert (boost.action, boost.points, [f for f, _ in boost.conditions]) == (
        "boost",
        12.5,
        ["title", "tags"],
    )
    short, a = config.sources
    assert short.url == "https://short.example/feed"
    assert (a.name, a.weight, a.interval, a.tags) == (
        "A",
        2.5,
        timedelta(minutes=30),
        ("ml", "research"),
    )
    allow, block = a.rules
    assert (allow.action, allow.conditions[0][0], allow.line) == ("allow", "text", 21)
    assert allow.conditions[0][1].search("New MODEL")
    assert block.action == "block" and block.conditions[0][1].search("Sponsored: x")
    assert a.line == 15


def test_overrides_win():
    config = parse_config(
        "store: x.db\nfeeds: [https://a.example/]\n",
        base_dir=BASE,
        store_url="sqlite:///other.db",
        output_dir=Path("/o"),
    )
    assert (config.store_url, config.output_dir) == ("sqlite:///other.db", Path("/o"))


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "feeds:\n  - url: https://a.example/\n    name: A\n  - url: https://b.example/\n"
            "    name: a\n",
            4,
            "duplicate source name",
        ),
        (
            "feeds:\n  - url: https://A.example/\n  - url: https://a.example\n",
            3,
            "duplicate source",
        ),
        ("feeds:\n  - url: https://a.example/\n    tags: [ok, 3]\n", 3, "tag"),
        ("feeds:\n  - url: https://a.example/\n    tags: x\n", 3, "'tags' must be a list"),
        ("feeds:\n  - url: https://a.example/\n    interval: 0s\n", 3, "shorter than the minimum"),
        ("feeds:\n  - 42\n", 2, "must be a mapping"),
        ("feeds:\n  - name: x\n", 2, "missing required key 'url'"),
        ("feeds:\n  - url: http:///nohost\n", 2, "has no host"),
        ("fetch:\n  max_bytes: lots\nfeeds: [https://a.example/]\n", 2, "not a size"),
        ("fetch:\n  workers: 2.5\nfeeds: [https://a.example/]\n", 2, "whole number"),
        ("fetch:\n  timeout: true\nfeeds: [https://a.example/]\n", 2, "must be a number"),
        (
            "score:\n  weights: {coverage: 0, velocity: 0, source: 0, recency: 0}\nfeeds: [https://a.example/]\n",
            2,
            "must not all be zero",
        ),
        ("feeds:\n  - url: https://a.example/\n    url: https://b.example/\n", 3, "duplicate key"),
        ("feeds: 3\n", 1, "must be a list"),
        ("workers:\n  broker: amqp://q/\nfeeds: [https://a.example/]\n", 2, "not a redis://"),
        ("workers:\n  rate_limit: fast\nfeeds: [https://a.example/]\n", 2, "like 20/s"),
        ("workers:\n  queue: a b\nfeeds: [https://a.example/]\n", 1, "letters, digits"),
        (
            "workers: {visibility_timeout: 1h, lease: 5m}\nfeeds: [https://a.example/]\n",
            1,
            "shorter than 'visibility_timeout'",
        ),
        ("workers:\n  broker: ${NO_SUCH_VAR_HERE}\nfeeds: [https://a.example/]\n", 2, "not set"),
        ("", 1, "must be a mapping"),
    ],
)
def test_errors_name_their_line(text, line, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config(text, base_dir=BASE)
    assert info.value.line == line, str(info.value)
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"config: line {line}: ")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        (45, 45),
        ("1.5h", 5400),
    ],
)
def test_durations(value, seconds):
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["soon", "", "5 parsecs", True, "-1h"])
def test_bad_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_sizes():
    assert parse_size("10MiB") == 10 * 2**20
    assert parse_size("500kB") == 500_000
    assert parse_size(4096) == 4096
    with pytest.raises(ValueError):
        parse_size("12")


def test_workers(monkeypatch):
    monkeypatch.setenv("BROKER_PASSWORD", "s3cret")
    text = (
        "workers:\n  broker: redis://:${BROKER_PASSWORD}@redis.lan:6379/2\n  queue: polls\n"
        "  rate_limit: 20/s\n  visibility_timeout: 5m\n  lease: 20m\n"
        "feeds: [https://a.example/]\n"
    )
    workers = parse_config(text, base_dir=BASE).workers
    assert workers.broker == "redis://:s3cret@redis.lan:6379/2"
    assert (workers.queue, workers.rate_limit) == ("polls", "20/s")
    assert (workers.visibility_timeout, workers.lease) == (
        timedelta(minutes=5),
        timedelta(minutes=20),
    )
    off = parse_config("feeds: [https://a.example/]\n", base_dir=BASE).workers
    assert off.broker is None
    given = parse_config("feeds: [https://a.example/]\n", base_dir=BASE, broker="rediss://r/0")
    assert given.workers.broker == "rediss://r/0"


def test_a_big_unchanged_config_is_read_from_the_cache(tmp_path, monkeypatch):
    from aggregator.config import load_config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "feeds.yaml"
    lines = [f"  - {{url: https://s{i}.example/feed, name: s{i}}}" for i in range(250)]
    path.write_text("feeds:\n" + "\n".join(lines) + "\n")
    first = load_config(path)
    (kept,) = (tmp_path / "cache" / "aggregator").iterdir()
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert load_config(path) == first  # from the cache
    assert load_config(path, store_url="sqlite:///other.db").store_url == "sqlite:///other.db"
    path.write_text(path.read_text().replace("name: s7}", "name: seven}"))
    assert load_config(path).sources[7].name == "seven"  # an edit is never missed
    kept.write_bytes(b"not a pickle")
    assert load_config(path).sources[7].name == "seven"
    secret = tmp_path / "secret.yaml"
    monkeypatch.setenv("FEED_TOKEN", "t0ken")
    secret.write_text(
        path.read_text().replace("name: s1}", "name: s1, headers: {X-Key: '${FEED_TOKEN}'}}")
    )
    load_config(secret)
    assert len(list((tmp_path / "cache" / "aggregator").iterdir())) == 1  # never kept
