"""Severity scales a practitioner records at consultation, per indication (DOMAIN.md §5).

Plain data and plain functions, no Django imports. Each scale says its range, whether scores are
whole numbers, which way is worse, and its sources, so that a score outside the scale is refused
with the reason rather than stored.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class SeverityScale:
    code: str
    label: str
    minimum: Decimal
    maximum: Decimal
    whole: bool
    meaning: str
    source: tuple[str, ...]

    @property
    def range_text(self) -> str:
        return f"{_plain(self.minimum)}–{_plain(self.maximum)}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _scale(code, label, low, high, *, whole, meaning, source) -> SeverityScale:
    return SeverityScale(code, label, Decimal(str(low)), Decimal(str(high)), whole, meaning, tuple(source))


WSRS = _scale(
    "wsrs",
    "Wrinkle Severity Rating Scale (WSRS), 1–5",
    1,
    5,
    whole=True,
    meaning="1 absent, 2 mild, 3 moderate, 4 severe, 5 extreme; rate each side separately",
    source=["S30"],
)
GLOGAU = _scale(
    "glogau",
    "Glogau photoageing type, I–IV (recorded 1–4)",
    1,
    4,
    whole=True,
    meaning="1 mild, 2 moderate, 3 advanced, 4 severe",
    source=["S32"],
)
VSS = _scale(
    "vss",
    "Vancouver Scar Scale (VSS), 0–13",
    0,
    13,
    whole=True,
    meaning="vascularity, pigmentation, pliability and height added up; lower is better",
    source=["S28"],
)
POSAS_OBSERVER = _scale(
    "posas_observer",
    "POSAS v2.0 observer scale, 6–60",
    6,
    60,
    whole=True,
    meaning="six items scored 1 (like normal skin) to 10 (worst imaginable), added up",
    source=["S27"],
)
POSAS_PATIENT = _scale(
    "posas_patient",
    "POSAS v2.0 patient scale, 6–60",
    6,
    60,
    whole=True,
    meaning="six items scored 1 (like normal skin) to 10 (worst imaginable), added up",
    source=["S27"],
)
ELASA = _scale(
    "elasa",
    "Evaluator Live Acne Scarring Assessment (ELASA), 0–4",
    0,
    4,
    whole=True,
    meaning="0 clear to 4 severe",
    source=["S11"],
)
T_VASI = _scale(
    "t_vasi",
    "Total VASI, 0–100",
    0,
    100,
    whole=False,
    meaning="sum of hand units × depigmentation fraction",
    source=["S26"],
)
F_VASI = _scale(
    "f_vasi",
    "Facial VASI, 0–3",
    0,
    3,
    whole=False,
    meaning="VASI of the face; its maximum is about 3",
    source=["S26"],
)
REPIGMENTATION_PCT = _scale(
    "repigmentation_pct",
    "Repigmentation, % of the lesion",
    0,
    100,
    whole=False,
    meaning="the raw percentage repigmented",
    source=["S18"],
)
REPIGMENTATION_GRADE = _scale(
    "repigmentation_grade",
    "Repigmentation grade, 0–6",
    0,
    6,
    whole=True,
    meaning="0 none to 6 complete (100%)",
    source=["S25"],
)
RE_EPITHELIALISED_PCT = _scale(
    "re_epithelialised_pct",
    "Re-epithelialised, % of the area",
    0,
    100,
    whole=False,
    meaning="the percentage of the area covered by new skin",
    source=["S19", "S45"],
)

# The scales that fit each indication, the usual one first.
SCALES_BY_INDICATION: dict[str, tuple[SeverityScale, ...]] = {
    "burn": (VSS, POSAS_OBSERVER, POSAS_PATIENT, RE_EPITHELIALISED_PCT),
    "scar": (VSS, POSAS_OBSERVER, POSAS_PATIENT, ELASA),
    "wound": (RE_EPITHELIALISED_PCT, POSAS_OBSERVER, POSAS_PATIENT),
    "vitiligo": (T_VASI, F_VASI, REPIGMENTATION_PCT, REPIGMENTATION_GRADE),
    "hypopigmentation": (REPIGMENTATION_PCT, REPIGMENTATION_GRADE),
    "sun_damage": (GLOGAU, WSRS),
    "premature_ageing": (WSRS, GLOGAU),
}

SCALES: dict[str, SeverityScale] = {
    scale.code: scale for scales in SCALES_BY_INDICATION.values() for scale in scales
}

SCALE_NEEDS_INDICATION = "choose the indication first"
SCALE_WRONG_FOR_INDICATION = "is not a scale for {indication}; use one of: {codes}"
SCALE_UNKNOWN = "unknown scale; use one of: {codes}"
SCORE_NEEDS_SCALE = "choose the scale this score is on"
SCORE_NOT_A_NUMBER = "must be a number"
SCORE_OUT_OF_RANGE = "must be between {low} and {high} on the {label}"
SCORE_NOT_WHOLE = "must be a whole number on the {label}"
SCALE_NEEDS_SCORE = "give the score on this scale"


def scales_for(indication: str) -> tuple[SeverityScale, ...]:
    """The scales that fit INDICATION (none for an unknown one)."""
    return SCALES_BY_INDICATION.get(indication, ())


def severity_problems(indication: str, scale_code: str, score) -> list[tuple[str, str]]:
    """(field, message) for every way a severity record is wrong; empty when it is right.

    Fields are `severity_scale` and `severity_score`. Both blank is a valid "not recorded".
    """
    blank_score = score is None or (isinstance(score, str) and not score.strip())
    if not scale_code and blank_score:
        return []
    if not scale_code:
        return [("severity_scale", SCORE_NEEDS_SCALE)]
    allowed = scales_for(indication)
    if not indication:
        return [("severity_scale", SCALE_NEEDS_INDICATION)]
    if scale_code not in SCALES:
        return [("severity_scale", SCALE_UNKNOWN.format(codes=", ".join(s.code for s in allowed)))]
    if scale_code not in {s.code for s in allowed}:
        return [
            (
                "severity_scale",
                SCALE_WRONG_FOR_INDICATION.format(
                    indication=indication, codes=", ".join(s.code for s in allowed)
                ),
            )
        ]
    if blank_score:
        return [("severity_score", SCALE_NEEDS_SCORE)]
    scale = SCALES[scale_code]
    try:
        value = Decimal(str(score).strip())
    except (InvalidOperation, ValueError):
        return [("severity_score", SCORE_NOT_A_NUMBER)]
    if not value.is_finite():
        return [("severity_score", SCORE_NOT_A_NUMBER)]
    if not scale.minimum <= value <= scale.maximum:
        return [
            (
                "severity_score",
                SCORE_OUT_OF_RANGE.format(
                    low=_plain(scale.minimum), high=_plain(scale.maximum), label=scale.label
                ),
            )
        ]
    if scale.whole and value != value.to_integral_value():
        return [("severity_score", SCORE_NOT_WHOLE.format(label=scale.label))]
    if value != value.quantize(Decimal("0.01")):
        return [("severity_score", "can have at most 2 decimal places")]
    return []
