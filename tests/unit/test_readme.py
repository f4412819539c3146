"""The README documents every command, and every command answers --help."""

from __future__ import annotations

import tomllib

import click
from click.testing import CliRunner

from aggregator import HOMEPAGE
from aggregator.cli import cli
from tests.conftest import ROOT


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_is_in_the_readme_and_has_help() -> None:
    readme = (ROOT / "README.md").read_text()
    reference = readme[readme.index("## CLI reference") :]
    paths = commands(cli)
    assert len(paths) >= 12
    runner = CliRunner()
    for path in paths:
        assert f"| `{' '.join(path)}" in reference, f"`{' '.join(path)}` is not in the README"
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output
    for section in ("### Running from cron", "### Running as a systemd service", "## OPML"):
        assert section in readme
    assert "aggregator_source_up" in readme  # the metrics are documented


def test_the_projects_home_is_its_metadata() -> None:
    """The User-Agent and the JSON Feed extension's `about` point at the Homepage that
    pyproject.toml declares, and `about`'s anchor is a heading of the README."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["urls"]["Homepage"] == HOMEPAGE
    assert "\n## Published items\n" in (ROOT / "README.md").read_text()
