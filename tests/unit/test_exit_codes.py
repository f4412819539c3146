"""The CLI's exit codes: each error it reports in one line has its own, documented code,
and an error it does not know keeps its traceback instead of passing for a store error."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest

import aggregator
from aggregator.cli.base import (
    EXIT_CONFIG,
    EXIT_FEEDS_FAILED,
    EXIT_LOCKED,
    EXIT_PUBLISH,
    EXIT_STORE,
    errors_to_exit_codes,
    exit_code,
)
from aggregator.errors import (
    AggregatorError,
    ConfigError,
    FeedError,
    FeedErrorKind,
    LockedError,
    PublishError,
    StoreError,
    StoreGoneError,
)


def subclasses(cls: type[AggregatorError]) -> Iterator[type[AggregatorError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_error_of_the_package_has_an_exit_code() -> None:
    for module in pkgutil.walk_packages(aggregator.__path__, "aggregator."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    ours = [c for c in subclasses(AggregatorError) if c.__module__.startswith("aggregator.")]
    assert LockedError in ours
    assert [c for c in ours if exit_code(c.__new__(c)) is None] == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("bad", line=3), EXIT_CONFIG),
        (StoreError("full"), EXIT_STORE),
        (StoreGoneError("gone"), EXIT_STORE),
        (PublishError("read-only"), EXIT_PUBLISH),
        (LockedError("another run holds the lock"), EXIT_LOCKED),
        (FeedError(FeedErrorKind.TIMEOUT, "slow"), EXIT_FEEDS_FAILED),
    ],
)
def test_a_reported_error_is_one_line_and_its_code(
    error: AggregatorError, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended, errors_to_exit_codes():
        raise error
    assert ended.value.code == code
    assert capsys.readouterr().err == f"{error}\n"


def test_an_unknown_error_keeps_its_traceback() -> None:
    class Unknown(AggregatorError):
        pass

    with pytest.raises(Unknown), errors_to_exit_codes():
        raise Unknown("not mapped")
