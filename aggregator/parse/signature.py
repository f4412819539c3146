"""signature: an entry's text -> the tokens that identify its story. Pure.

Lower-cased words and numbers with punctuation stripped, stop words and very short words
dropped, a light plural fold ("models" -> "model"), headline tokens marked so that they
can weigh more than body tokens. Stored per entry, so that the story index can be rebuilt
from the store without re-reading any HTML.
"""

from __future__ import annotations

import functools
import re
import unicodedata

TITLE_PREFIX = "t:"
ENTITY_PREFIX = "e:"
# Capitalised words that open sentences and headlines without being names.
_OPENINGS = frozenset(
    """
breaking update exclusive report analysis opinion watch live new researchers scientists
police officials experts study studies investors analysts shares stocks markets this that
these those there here how why what when where who which while after before as in on at
""".split()
)
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\s+[-|–—]\s+")
_MARK = re.compile(r"[.!?:;|–—-]")  # every _SENTENCE match holds one of these
_WORD = re.compile(r"[\w$€£][\w.'’$€£%-]*")
BODY_WORDS = 60
LEAD_CHARS = 1000  # the text's first two sentences are looked for in this much of it
_DIGIT = re.compile(r"\d")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(k|m|mn|bn|b|tn)\b", re.IGNORECASE)
_UNITS = {
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "b": "billion",
    "bn": "billion",
    "tn": "trillion",
}
_TOKEN = re.compile(r"[a-z0-9]+(?:[.'’][a-z0-9]+)*")
STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can cannot could did do does doing down during each
few for from further had has have having he her here hers herself him himself his how i if
in into is isn't it it's its itself just let me more most my myself no nor not now of off on
once only or other ought our ours ourselves out over own same she should so some such than
that that's the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves says said say new news via get gets got make makes report
reports update updates today week year years one two three first last next like could may
might must shall s t don't won't can't amid
""".split()
)


def signature(title: str, text: str) -> str:
    """Space-separated tokens: title tokens prefixed with `t:`, the names and numbers that
    identify the event prefixed with `e:`, then body tokens."""
    title_tokens = _tokens(title)
    body = _body_tokens(text, set(title_tokens))
    entities = entity_tokens(title, text)
    return " ".join(
        [TITLE_PREFIX + w for w in dict.fromkeys(title_tokens)]
        + [ENTITY_PREFIX + w for w in entities]
        + body
    )


def _body_tokens(text: str, skip: set[str]) -> list[str]:
    """The first BODY_WORDS tokens of `text` not in `skip`. A long text is read from a
    prefix (cut between words), a longer one only if that falls short: the result is the
    same as from the whole text, without tokenising a full article."""
    for limit in (600, 1500, 6000, None):
        head = text if limit is None or len(text) <= limit else text[:limit].rsplit(None, 1)[0]
        body = [w for w in _tokens(head) if w not in skip][:BODY_WORDS]
        if len(body) == BODY_WORDS or head is text:
            return body
    return body  # pragma: no cover - the last limit reads the whole text


def entity_tokens(title: str, text: str) -> list[str]:
    """The headline's names and numbers: the headline tokens that are numbers, or that are
    written with a capital where a capital means a name (inside a sentence, or starting one
    when the word is not a common opening). A headline's capitals are partly the outlet's
    style (Title Case, or a first word), so where there is a text only its first
    sentences are evidence of names; a bare headline's capitals count unless it is in
    Title Case."""
    lead = " ".join(_sentences(text[:LEAD_CHARS], maxsplit=2)[:2])
    names = set(_capitalised(lead))
    if not lead.strip() and not _is_title_case(title):
        names.update(_capitalised(title))
    return list(
        dict.fromkeys(t for t in _tokens(title) if t in names or any(c.isdigit() for c in t))
    )


def _sentences(text: str, maxsplit: int = 0) -> list[str]:
    """`text` cut where sentences end; a text without any sentence mark is one sentence
    (told by a plain character scan, much cheaper than the splitting pattern's)."""
    if not _MARK.search(text):
        return [text]
    return _SENTENCE.split(text, maxsplit=maxsplit)


def _is_title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3 and w[:1].isalpha()]
    return len(words) >= 3 and sum(w[:1].isupper() for w in words) >= 0.7 * len(words)


def _capitalised(text: str) -> list[str]:
    """Tokens of the words written with a capital that is not just a sentence's first."""
    names: list[str] = []
    for sentence in _sentences(text):
        words = _WORD.findall(sentence)
        if not words:
            continue
        first = words[0].lower()
        if words[0][0].isupper() and first not in STOPWORDS and first not in _OPENINGS:
            names.extend(_word_tokens(words[0]))
        for word in [w for w in words[1:] if w[0].isupper()]:
            names.extend(_word_tokens(word))
    return names


@functools.lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    """_tokens of one word as written, cached (names repeat)."""
    return tuple(_tokens(word))


def _tokens(text: str) -> list[str]:
    # "$40M", "€1.7bn" and "40 million" say the same: spell the unit out.
    if _DIGIT.search(text):
        text = _AMOUNT.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2).lower()]}", text)
    folded = text.lower()
    if not folded.isascii():  # accents off: "café" is "cafe"
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    words = [_word(w) for w in _TOKEN.findall(folded)]
    return [w for w in words if w]


@functools.lru_cache(maxsize=1 << 16)
def _word(word: str) -> str:
    """A raw token as it is indexed ("" for one that is not): possessive and plural
    folded, stopwords and single letters out. Cached: words repeat (Zipf)."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if (len(word) < 2 and not word.isdigit()) or word in STOPWORDS:
        return ""
    return _fold_plural(word)


def _fold_plural(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
