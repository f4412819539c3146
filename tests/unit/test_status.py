"""status: how `status` writes intervals (issue 16: "every 5h", not "every 296.5m")."""

from __future__ import annotations

import pytest

from aggregator.health.status import _duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, None),
        (5, "5s"),
        (300, "5m"),
        (5400, "90m"),
        (3600, "1h"),
        (296.5 * 60, "5h"),
        (18.7 * 3600, "19h"),
        (36 * 3600, "36h"),
        (86400, "1d"),
        (3 * 86400 + 100, "3d"),
    ],
)
def test_intervals_in_whole_units(seconds: float | None, shown: str | None) -> None:
    assert _duration(seconds) == shown
