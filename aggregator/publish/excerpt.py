"""excerpt: what a reader sees first of a text. Pure.

`lead` is the first sentence of plain text (two when the first is short), whole: cut where
a sentence ends, never inside one unless a single sentence runs past `LONGEST`.
`leading_paragraphs` keeps the first paragraphs of an HTML body.

Sentences are found by sentencex (Wikimedia's rule-based segmenter, the only import of
it): abbreviations ("U.S.", "Inc.", "e.g."), decimals, quotes and ellipses are handled
for some 300 languages, with no model to load, in microseconds per text.
"""

from __future__ import annotations

from lxml import etree
from lxml import html as lxml_html
from sentencex import segment

from aggregator.parse.normalise import shorten

SHORT = 80  # a first sentence shorter than this is followed by the second (issue 16)
LONGEST = 320  # past this, one sentence is cut at a word and marked
PARAGRAPHS = 3  # of a body
WRAPPERS = frozenset({"div", "section", "article", "main", "body"})
BLOCKS = WRAPPERS | {
    "p",
    "ul",
    "ol",
    "dl",
    "blockquote",
    "pre",
    "figure",
    "table",
    *(f"h{n}" for n in range(1, 7)),
}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in segment("en", text) if s.strip()]


def lead(text: str, *, short: int = SHORT, longest: int = LONGEST) -> str:
    """The lead sentence of `text`, with the second when the first is shorter than
    `short` characters (and the two fit in `longest`)."""
    found = sentences(text)
    if not found:
        return ""
    first = found[0]
    if len(first) < short and len(found) > 1 and len(first) + len(found[1]) < longest:
        return f"{first} {found[1]}"
    return shorten(first, longest)


def leading_paragraphs(fragment: str, count: int = PARAGRAPHS) -> str:
    """The first `count` block elements of an HTML fragment (those inside a lone wrapping
    div, section or article count one by one), or the fragment itself when it has no
    more than that."""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    while (
        len(root) == 1
        and root[0].tag in WRAPPERS
        and not (root.text or "").strip()
        and not (root[0].tail or "").strip()
    ):
        root = root[0]
    blocks = [child for child in root if child.tag in BLOCKS]
    if len(blocks) <= count:
        return fragment
    last = blocks[count - 1]
    for child in list(root)[root.index(last) + 1 :]:
        root.remove(child)
    last.tail = None
    inner = [etree.tostring(child, encoding="unicode", method="html") for child in root]
    return ((root.text or "") + "".join(inner)).strip()
