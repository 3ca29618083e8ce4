"""Words a patient reads: internal markers never, and clinical jargon only with a plain explanation.

Plain data and plain functions, no Django imports. The catalogue loader checks every patient-facing
field with `problems()`; tests run the same check over every rendered page a patient sees.
"""

import re
from dataclasses import dataclass

# Internal markers: clinicians' notes, source tags, rule-set ids, placeholders and review flags.
MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a review flag (unverified)", re.compile(r"\bunverified\b", re.IGNORECASE)),
    ("a review flag (verify)", re.compile(r"\(verify\)|\bto verify\b", re.IGNORECASE)),
    ("a clinician's note (not stated)", re.compile(r"\bnot stated\b", re.IGNORECASE)),
    ("a clinician's note (the patient ...)", re.compile(r"\bthe patient\b", re.IGNORECASE)),
    ("a source tag", re.compile(r"\[S[0-9]+[a-z]?\]|\bS[0-9]{1,3}[a-z]?\b")),
    ("a secondary-source flag", re.compile(r"\(sec\)")),
    ("a rule-set id", re.compile(r"\b[0-9]{4}\.[0-9]+-[0-9a-f]{10}\b")),
    ("a rule id", re.compile(r"\b[a-z]+(?:_[a-z]+)+:[a-z_.]+\b")),
    ("an unfilled placeholder", re.compile(r"\{[a-z_]+\}")),
    # "None" as a value (alone, or after a colon), not the word that starts "None of ..." or "None yet".
    ("a missing value", re.compile(r"(?:^|[:=]\s*)None\b(?!\s+\w)")),
    ("a note to the team", re.compile(r"\b(?:TODO|FIXME|NOT FOUND)\b")),
)


@dataclass(frozen=True)
class Term:
    """A clinical word, and the plain words of which at least one must stand beside it."""

    pattern: re.Pattern[str]
    word: str
    plain: tuple[str, ...]
    # What to put beside the word where it cannot be avoided (in a name, say).
    explanation: str = ""


def _term(word: str, *plain: str, stem: bool = False) -> Term:
    body = re.escape(word) + (r"\w*" if stem else "")
    pattern = re.compile(rf"\b{body}\b", re.IGNORECASE)
    return Term(pattern, word, tuple(p.lower() for p in plain), EXPLANATIONS.get(word, ""))


# The plain explanation given beside each word that has one.
EXPLANATIONS: dict[str, str] = {
    "split-thickness": "a thin layer of skin",
    "intradermal": "injected into the skin",
    "debride": "cleaning away dead or damaged tissue",
    "ablat": "removing the top layer of skin",
    "dermabrasion": "removing the top layer of skin",
    "autologous": "made from your own cells",
    "allogeneic": "made from donor cells",
    "keratinocyte": "skin cells of the outer layer",
    "melanocyte": "the cells that give skin its colour",
    "fibroblast": "skin cells that make collagen",
    "cryopreserv": "kept frozen",
    "epithelialis": "healed with new skin",
    "trypsin": "an enzyme",
    "dmso": "used to freeze cells",
    "autograft": "a skin graft of your own skin",
    "meshed": "a skin graft stretched like a net",
    "investigational": "not approved, still being studied",
    "placebo": "compared with a dummy treatment",
    "leukoderma": "white patches",
    "piebaldism": "white patches from birth",
    "phototherapy": "treatment with light",
    "topical": "creams put on the skin",
    "immunosuppress": "weakening the immune system",
    "anticoagulant": "blood thinners",
    "xenotransplant": "contains animal cells",
}


# The glossary: each word may reach a patient only with one of its explanations in the same sentence.
GLOSSARY: tuple[Term, ...] = (
    _term("split-thickness", "thin", "top layers"),
    _term("intradermal", "into the skin"),
    _term("debride", "clean", "dead or damaged", stem=True),
    _term("ablat", "remov", "top layer", stem=True),
    _term("dermabrasion", "remov", "top layer", "sanding"),
    _term("endpoint", "main result", "measured"),
    _term("autologous", "your own"),
    _term("allogeneic", "donor"),
    _term("keratinocyte", "skin cells", "outer layer", stem=True),
    _term("melanocyte", "colour", "pigment", stem=True),
    _term("fibroblast", "collagen", stem=True),
    _term("cryopreserv", "frozen", "freez", stem=True),
    _term("epithelialis", "healed", "skin has grown", "new skin", stem=True),
    _term("anaphyla", "severe allergic", stem=True),
    _term("hypersensitivity", "allerg"),
    _term("contraindicat", "cannot be used", "must not", stem=True),
    _term("pruritus", "itch"),
    _term("erythema", "redness", "red"),
    _term("oedema", "swelling"),
    _term("haemorrhage", "bleeding"),
    _term("vasculitis", "inflammation of", "blood vessels"),
    _term("hypertrophic", "raised", "thick"),
    _term("keloid", "raised", "thick"),
    _term("dmso", "freez", "frozen"),
    _term("trypsin", "enzyme"),
    _term("autograft", "your own skin", "skin graft"),
    _term("meshed", "skin graft", "stretched"),
    _term("excipient", "ingredient"),
    _term("adventitious", "infection", "virus"),
    _term("investigational", "study", "studies", "not approved", "trial"),
    _term("placebo", "dummy", "inactive"),
    _term("passage", "grown", "times the cells"),
    _term("leukoderma", "white patches", "light patches"),
    _term("piebaldism", "white patches", "light patches", "born with"),
    _term("phototherapy", "light"),
    _term("topical", "cream", "on the skin"),
    _term("herpes labialis", "cold sore"),
    _term("immunosuppress", "immune system", stem=True),
    _term("anticoagulant", "blood thinner", stem=True),
    _term("xenotransplant", "animal", stem=True),
)

_SENTENCE = re.compile(r"(?<=[.!?:;])\s+")


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE.split(" ".join(text.split())) if part]


def problems(text: str) -> list[str]:
    """What in TEXT a patient must not read: each marker, and each unexplained jargon word."""
    found: list[str] = []
    for name, pattern in MARKERS:
        match = pattern.search(text)
        if match:
            found.append(f"{name}: {match.group(0)!r}")
    for sentence in sentences(text):
        lowered = sentence.lower()
        for term in GLOSSARY:
            match = term.pattern.search(sentence)
            if match and not any(plain in lowered for plain in term.plain):
                found.append(f"jargon without a plain explanation: {match.group(0)!r} in {sentence!r}")
    return found
