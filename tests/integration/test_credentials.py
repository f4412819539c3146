"""Per-source credentials (headers, basic auth, a user and password in the URL) reach the
source's own origin and nothing else: not a host it redirects to, not the logs at debug
level, status, exports, outputs or the database file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

PASSWORD = "pw-Quartz-7731"
TOKEN = "tok-Vellum-5520"
URL_PASSWORD = "pw-Heron-0946"
WRONG = "pw-Wrong-3318"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def feed(name: str) -> bytes:
    return rss(
        [
            {
                "title": f"{name} story {i} about subject {name}{i}",
                "link": f"https://{name}.example.com/{i}",
                "guid": f"{name}-{i}",
                "pubDate": rfc822(9),
                "description": f"Body {i} of {name}.",
            }
            for i in range(3)
        ],
        title=name,
    )


def test_credentials_go_to_their_origin_only_and_are_shown_nowhere(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    other = FeedServer().start()  # another port: another origin
    try:
        feed_server.routes["/a.xml"] = Route(
            body=feed("alpha"),
            require={"Authorization": basic("alice", PASSWORD), "X-Api-Key": TOKEN},
        )
        feed_server.routes["/b.xml"] = Route(
            body=feed("beta"), require={"Authorization": basic("bob", URL_PASSWORD)}
        )
        feed_server.routes["/c.xml"] = Route(status=302, headers={"Location": other.url("/c.xml")})
        other.routes["/c.xml"] = Route(body=feed("gamma"))
        feed_server.routes["/d.xml"] = Route(
            body=feed("delta"), require={"Authorization": basic("dan", PASSWORD)}
        )
        host = feed_server.base.removeprefix("http://")
        (tmp_path / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - url: {feed_server.url('/a.xml')}\n"
            "    name: alpha\n"
            "    auth: {username: alice, password: '${FEED_PASSWORD}'}\n"
            "    headers:\n"
            "      X-Api-Key: ${FEED_TOKEN}\n"
            f"  - url: http://bob:{URL_PASSWORD}@{host}/b.xml\n"
            "    name: beta\n"
            f"  - url: {feed_server.url('/c.xml')}\n"
            "    name: gamma\n"
            f"    auth: {{username: carol, password: {PASSWORD}}}\n"
            "    headers: {X-Api-Key: '${FEED_TOKEN}'}\n"
            f"  - url: {feed_server.url('/d.xml')}\n"
            "    name: delta\n"
            f"    auth: {{username: dan, password: {WRONG}}}\n"
        )
        env = {"FEED_PASSWORD": PASSWORD, "FEED_TOKEN": TOKEN}
        run = run_cli("-vv", "run", "--once", cwd=tmp_path, env=env)
        assert run.returncode == 0, run.stderr
        status = run_cli("status", cwd=tmp_path, env=env)
        status_json = run_cli("status", "--json", cwd=tmp_path, env=env)
        exported = run_cli("export", "entries", cwd=tmp_path, env=env)
        for result in (status, status_json, exported):
            assert result.returncode == 0, result.stderr

        # The credentials worked where they belong, and a wrong one is a plain 401.
        sources = {e["feed_name"] for e in map(json.loads, exported.stdout.splitlines())}
        assert {"alpha", "beta", "gamma"} <= sources
        assert "delta" not in sources
        delta = next(
            r for r in map(json.loads, status_json.stdout.splitlines()) if r["name"] == "delta"
        )
        assert "401" in str(delta["last_error"])
        # The redirect to another origin carried none of them.
        (hop,) = other.requests_for("/c.xml")
        assert "Authorization" not in hop.headers
        assert "X-Api-Key" not in hop.headers
        assert feed_server.requests_for("/c.xml")[0].headers["X-Api-Key"] == TOKEN

        secrets = [
            PASSWORD,
            TOKEN,
            URL_PASSWORD,
            WRONG,
            basic("alice", PASSWORD).split()[1],
            basic("bob", URL_PASSWORD).split()[1],
        ]
        shown = {
            "run log": run.stdout + run.stderr,
            "status": status.stdout + status.stderr,
            "status --json": status_json.stdout,
            "export entries": exported.stdout,
        }
        for path in sorted((tmp_path / "output").rglob("*.*")):
            shown[path.name] = path.read_text()
        for path in tmp_path.glob("aggregator.sqlite*"):
            shown[path.name] = path.read_bytes().decode("latin-1")
        assert {"feed.atom", "feed.rss", "feed.json", "index.html", "aggregator.sqlite"} <= set(
            shown
        )
        for where, text in shown.items():
            for secret in secrets:
                assert secret not in text, f"{secret} appears in {where}"
        assert f"bob:{URL_PASSWORD}" not in (tmp_path / "output" / "feed.atom").read_text()
    finally:
        other.stop()


def test_missing_environment_variable_is_a_config_error_that_shows_no_secret(
    tmp_path: Path,
) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n"
        "  - url: https://example.com/feed.xml\n"
        "    headers:\n"
        "      Authorization: Bearer ${NOT_SET_ANYWHERE}\n"
        f"  - url: https://bob:{URL_PASSWORD}@example.com:99999/x\n"
    )
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "config: line 4: 'Authorization': environment variable NOT_SET_ANYWHERE is not set"
    )
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - url: https://bob:{URL_PASSWORD}@example.com:99999/x\n"
    )
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid port" in result.stderr
    assert URL_PASSWORD not in result.stderr
