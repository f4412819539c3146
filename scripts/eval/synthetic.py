"""A generated labelled set for measuring stories: events from templates, each reported
by several sources as syndicated copies, rewritten headlines, wire copies with small
edits and truncated summaries; and, as hard negatives, distinct events of the same topic
(same template, other entities; sometimes the same company). Deterministic by seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

_SYLLABLES = [
    "zor",
    "vex",
    "quil",
    "lon",
    "mar",
    "tek",
    "bri",
    "xa",
    "nor",
    "dal",
    "vio",
    "ren",
    "sol",
    "kai",
    "pra",
    "tum",
    "gla",
    "fen",
    "oro",
    "lys",
    "cad",
    "wen",
]
_ENDINGS = ["Labs", "AI", "Systems", "Robotics", "Cloud", "Data", "Health", "Compute"]
# Several hundred fictional companies, as in three real days of AI news.
ORGS = sorted(
    {
        f"{a.capitalize()}{b} {e}"
        for a in _SYLLABLES
        for b in _SYLLABLES
        if a != b
        for e in _ENDINGS[(len(a) + len(b)) % len(_ENDINGS) :][:1]
    }
)
_FIRST = [
    "Ana",
    "Tom",
    "Priya",
    "Kenji",
    "Lena",
    "Omar",
    "Sara",
    "David",
    "Mei",
    "Lucas",
    "Ines",
    "Marek",
    "Yusuf",
    "Chloe",
    "Ravi",
    "Elena",
    "Jonas",
    "Aiko",
    "Bruno",
    "Dana",
]
_LAST = [
    "Ruiz",
    "Becker",
    "Nair",
    "Sato",
    "Vogel",
    "Haddad",
    "Lindqvist",
    "Okafor",
    "Chen",
    "Moreau",
    "Kowalski",
    "Santos",
    "Novak",
    "Ferreira",
    "Ito",
    "Schmidt",
    "Adeyemi",
]
PEOPLE = [f"{first} {last}" for first in _FIRST for last in _LAST]
LABS = [
    "Tallinn",
    "Basel",
    "Kyoto",
    "Toronto",
    "Lisbon",
    "Austin",
    "Delft",
    "Leuven",
    "Zurich",
    "Oslo",
    "Seoul",
    "Haifa",
    "Porto",
    "Ghent",
    "Turin",
    "Aarhus",
    "Krakow",
    "Bristol",
    "Utrecht",
    "Graz",
]
REGULATORS = [
    "The European Commission",
    "Italy's data protection authority",
    "The US Federal Trade Commission",
    "The UK Competition and Markets Authority",
    "France's CNIL",
    "Ireland's Data Protection Commission",
]
INVESTORS = [
    f"{a} {b}"
    for a in [
        "Crestline",
        "Northstar",
        "Bluefin",
        "Atlas",
        "Harbor",
        "Summit",
        "Granite",
        "Lantern",
        "Meadow",
        "Keystone",
    ]
    for b in ["Capital", "Ventures", "Partners"]
]
ISSUES = [
    "training on user conversations",
    "misleading accuracy claims",
    "unlawful data transfers",
    "opaque content moderation",
    "tying its assistant to its browser",
]
TASKS = [
    "protein folding",
    "weather forecasting",
    "speech recognition",
    "code completion",
    "machine translation",
    "tumour detection",
    "chip placement",
    "materials discovery",
]
METHODS = [
    "sparse attention",
    "retrieval augmentation",
    "test-time search",
    "mixture of experts",
    "curriculum distillation",
    "contrastive pretraining",
]
KINDS = ["language", "vision-language", "speech", "coding", "reasoning", "video"]
SOURCES = [f"outlet{i:02d}" for i in range(25)]

TOPICS: dict[str, tuple[list[str], str]] = {
    "release": (
        [
            "{org} releases {model}, a {size}B-parameter {kind} model",
            "{model}: {org}'s new {kind} model has {size} billion parameters",
            "{org} launches {kind} model {model}",
        ],
        "{org} released {model}, a {kind} model with {size} billion parameters. It scores "
        "{score} on the {bench} benchmark, the company said. {model} is available to "
        "developers {avail}.",
    ),
    "funding": (
        [
            "{org} raises ${amount} million in Series {round} led by {investor}",
            "{investor} leads ${amount}M Series {round} in {org}",
            "{org} lands ${amount} million from {investor}",
        ],
        "{org} raised {amount} million dollars in a Series {round} round led by {investor}. "
        "The money will fund {plan}, the company said. The round values {org} at {valuation} "
        "billion dollars.",
    ),
    "chips": (
        [
            "{org} unveils {chip} accelerator with {mem} GB of memory",
            "{chip}: {org} takes aim at AI training with {mem} GB chip",
            "{org} shows {chip} AI chip",
        ],
        "{org} unveiled the {chip} accelerator with {mem} GB of high-bandwidth memory. It "
        "claims {speed} times the training throughput of its previous chip. Shipments start "
        "in {quarter}.",
    ),
    "fine": (
        [
            "{regulator} fines {org} {amount} million euros over {issue}",
            "{org} hit with €{amount}m fine for {issue}",
            "{org} fined {amount} million euros by regulator",
        ],
        "{regulator} fined {org} {amount} million euros for {issue}. {org} said it would "
        "appeal the decision. The case began {months} months ago after complaints.",
    ),
    "paper": (
        [
            "{lab} team led by {person} shows {method} cuts {task} error by {pct}%",
            "{method} reduces {task} errors by {pct} percent, finds {person}'s group",
            "New paper from {person} ({lab}): {method} for {task}",
        ],
        "Researchers at {lab} led by {person} showed that {method} reduces errors in {task} by "
        "{pct} percent on standard benchmarks. The paper reports results on {n} datasets and "
        "releases code.",
    ),
    "acquisition": (
        [
            "{org} to acquire {target} for ${amount} billion",
            "{org} buys {target} in ${amount}B deal",
            "{target} agrees to ${amount} billion takeover by {org}",
        ],
        "{org} agreed to acquire {target} for {amount} billion dollars. The deal gives {org} "
        "{asset} and is expected to close in {quarter}, pending approval.",
    ),
    "breach": (
        [
            "{org} discloses breach affecting {n} million users",
            "Data of {n} million {org} users exposed in breach",
            "{org} confirms security incident hitting {n}M accounts",
        ],
        "{org} disclosed a security breach that exposed data of {n} million users, including "
        "{data}. The company said attackers used {vector}. It has notified regulators.",
    ),
    "hire": (
        [
            "{person} leaves {org} to join {org2} as {role}",
            "{org2} hires {org}'s {person} as {role}",
            "{person} moves from {org} to {org2}",
        ],
        "{person}, who led {team} at {org}, is joining {org2} as {role}. {person} spent "
        "{years} years at {org}. {org2} said the hire strengthens its {team} work.",
    ),
}
PREFIXES = ["", "", "", "Breaking: ", "Update: ", "Exclusive: ", "Report: "]
SUFFIXES = ["", "", "", " - Reuters", " | TechWire", " (Update)", " - report"]


@dataclass(frozen=True)
class Labelled:
    guid: str
    event: str
    topic: str
    source: str
    title: str
    summary: str
    url: str
    minutes: int  # before the reference time


def _slots(rng: random.Random, topic: str, lead: str, person: str) -> dict[str, str]:
    """`lead` (and `person`) are unique within the topic: two events of one topic never
    share their main actor, as two real events of one topic in three days seldom do."""
    org2, target = rng.sample([o for o in ORGS if o != lead], 2)
    return {
        "org": lead,
        "org2": org2,
        "target": target,
        "person": person,
        "model": f"{rng.choice(_SYLLABLES).capitalize()}{rng.choice(_SYLLABLES)}"
        f"-{rng.randint(2, 9)}{rng.choice(['', 'B', 'X', ' Pro', ' Mini'])}",
        "size": str(rng.choice([3, 7, 13, 34, 70, 120, 405])),
        "kind": rng.choice(KINDS),
        "score": f"{rng.randint(55, 95)}.{rng.randint(0, 9)}",
        "bench": rng.choice(["MMLU", "SWE-bench", "GPQA", "HumanEval", "MATH"]),
        "avail": rng.choice(["today through its API", "as open weights", "in a private beta"]),
        "amount": str(rng.randint(5, 1500)),
        "round": rng.choice("ABCD"),
        "investor": rng.choice(INVESTORS),
        "plan": rng.choice(["hiring and compute", "expansion into Europe", "new data centres"]),
        "valuation": str(rng.randint(1, 60)),
        "chip": f"{rng.choice(['H', 'T', 'Q', 'X'])}{rng.randint(100, 990)}",
        "mem": str(rng.choice([96, 144, 192, 288])),
        "speed": str(rng.choice([2, 3, 4])),
        "quarter": rng.choice(["the first quarter", "the second quarter", "the autumn"]),
        "regulator": rng.choice(REGULATORS),
        "issue": rng.choice(ISSUES),
        "months": str(rng.randint(3, 30)),
        "lab": rng.choice(LABS),
        "method": rng.choice(METHODS),
        "task": rng.choice(TASKS),
        "pct": str(rng.randint(8, 60)),
        "n": str(rng.randint(2, 40)),
        "asset": rng.choice(["its own inference chips", "a large user base", "new patents"]),
        "data": rng.choice(["email addresses", "chat histories", "payment details"]),
        "vector": rng.choice(["a stolen token", "a misconfigured bucket", "phishing"]),
        "role": rng.choice(["chief scientist", "head of research", "chief technology officer"]),
        "team": rng.choice(["pretraining", "safety research", "applied AI"]),
        "years": str(rng.randint(2, 12)),
    }


def _truncate(text: str, rng: random.Random, low: float, high: float) -> str:
    words = text.split()
    keep = max(3, int(len(words) * rng.uniform(low, high)))
    return " ".join(words[:keep]) + "…" if keep < len(words) else text


def generate(events: int = 400, seed: int = 7) -> list[Labelled]:
    rng = random.Random(seed)
    entries: list[Labelled] = []
    topics = list(TOPICS)
    leads = rng.sample(ORGS, len(ORGS))
    people = rng.sample(PEOPLE, len(PEOPLE))
    used: list[str] = []
    for number in range(events):
        topic = topics[number % len(topics)]
        headlines, body = TOPICS[topic]
        # One event in ten is led by a company already in the news for another event: the
        # hardest negatives (same company, different event).
        if used and rng.random() < 0.1:
            lead = rng.choice(used)
        else:
            lead = leads[number % len(leads)]
            used.append(lead)
        slots = _slots(rng, topic, lead, people[number % len(people)])
        title0 = headlines[0].format(**slots)
        summary = body.format(**slots)
        event = f"e{number:04d}"
        start = rng.randint(0, 3 * 24 * 60)
        copies = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])
        sources = rng.sample(SOURCES, copies)
        for k, source in enumerate(sources):
            kind = (
                "original"
                if k == 0
                else rng.choice(
                    ["syndicated", "tracking", "rewrite", "rewrite", "wire", "truncated"]
                )
            )
            title, text = title0, summary
            url = f"https://{source}.example/{event}/{k}"
            if kind == "syndicated":
                url = f"https://{source}.example/syndicated/{rng.randint(10**5, 10**6)}"
            elif kind == "tracking":
                url = f"https://{sources[0]}.example/{event}/0?utm_source={source}&utm_medium=rss"
            elif kind == "rewrite":
                title = rng.choice(headlines[1:]).format(**slots)
                sentences = summary.split(". ")
                rng.shuffle(sentences)
                text = ". ".join(sentences[:2])
            elif kind == "wire":
                title = rng.choice(PREFIXES) + title0 + rng.choice(SUFFIXES)
                text = summary.replace(" said", " told reporters").replace(", the company", "")
            elif kind == "truncated":
                title = _truncate(title0, rng, 0.6, 0.9)
                text = _truncate(summary, rng, 0.3, 0.6)
            entries.append(
                Labelled(
                    guid=f"{event}-{k}",
                    event=event,
                    topic=topic,
                    source=source,
                    title=title,
                    summary=text,
                    url=url,
                    minutes=max(0, start - rng.randint(0, 240) * (k > 0)),
                )
            )
    return entries
