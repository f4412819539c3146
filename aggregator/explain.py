"""explain: a story and what is known about it -> a plain-text explanation. Pure.

Why its entries are one story (the decision recorded for each member when it joined),
which rules matched, how the representative was chosen and how the score is made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from aggregator.publish.digest import atom_id, score_line
from aggregator.records import FeedSource, Rule, Score, StoredEntry, Story
from aggregator.rules import boosts, is_wanted, matched_rules


def explain_story(
    story: Story,
    score: Score,
    *,
    sources: Mapping[str, FeedSource],
    global_rules: tuple[Rule, ...],
    rule_order: Sequence[str],
    focus: int | None = None,
    wanted: Mapping[int, bool] | None = None,
) -> str:
    rep = story.representative
    lines = [
        f"story {story.id}  (Atom id {atom_id(story.id)})",
        f"  headline: {rep.title}",
        f"  shown from entry {rep.id} ({rep.source_name}), chosen by: "
        + ", then ".join(_RULE_WORDS[k] for k in rule_order),
        f"  created {story.created:%Y-%m-%d %H:%M} UTC, updated {story.updated:%Y-%m-%d %H:%M} UTC",
        f"  members ({len(story.members)} entries from "
        f"{len({m.source_url for m in story.members})} sources):",
    ]
    for member in story.members:
        marker = "*" if member.id == focus else " "
        lines.append(
            f"   {marker}#{member.id} {member.source_name} "
            f"{member.published:%Y-%m-%d %H:%M}  {member.title}"
        )
        if member.url:
            lines.append(f"        {member.url}")
        lines.append(f"        joined: {_joined(member, story)}")
        for rule in matched_rules(member, sources, global_rules):
            lines.append(f"        rule: {rule.describe()}")
        if wanted is not None and not wanted.get(member.id, True):
            lines.append(
                "        not published (blocked, not allowed, too old, or its source was removed)"
            )
    matched = boosts(story, sources, global_rules)
    lines.append(f"  score: {score.value:g} = {score_line(score.components)}")
    for rule in matched:
        lines.append(f"    boost: {rule.describe()}")
    return "\n".join(lines)


def wanted_members(
    story: Story,
    sources: Mapping[str, FeedSource],
    config_rules: tuple[Rule, ...],
    max_age: timedelta | None,
    now: datetime,
) -> dict[int, bool]:
    return {m.id: is_wanted(m, sources, config_rules, max_age, now) for m in story.members}


def _joined(member: StoredEntry, story: Story) -> str:
    if member.story_reason is None:
        return "first entry of the story" if member is story.members[0] else "(not recorded)"
    if member.story_reason.startswith(("no similar story", "no text to compare")):
        return f"started the story ({member.story_reason})"
    return member.story_reason


_RULE_WORDS = {
    "weight": "highest source weight",
    "length": "most complete text",
    "earliest": "earliest",
    "latest": "latest",
}
