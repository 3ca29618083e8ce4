"""Severity scales a practitioner records at consultation, item by item, per indication (DOMAIN.md §5).

Plain data and plain functions, no Django imports. Each scale lists its items with their range, whether
they are whole numbers, the only values some may take, and what each level means; its totals say which
items they add up (the overall opinion of POSAS is recorded but never added) and their range; its
sources are the tags of DOMAIN.md. `score_items` checks a submitted mapping of item to score for a scale
and answers the normalised items with the totals computed from them, or raises SeverityItemsError naming
every bad item and why. A total is never typed in: it is computed from the items.

Burns and wounds are also described, whatever scale is chosen: a burn by its depth and the % of the
total body surface area, a wound by its area and how long it has been open (`DESCRIPTORS`).

Scores recorded before item scores were kept (a scale and a total only) stay readable: `read` shows
them as "total only", and the two POSAS codes of that time are in `LEGACY_SCALES`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    """One scored item of a scale: a number in [minimum, maximum], whole or with up to 2 decimals.

    `allowed`, when given, is the only values it may take; `levels` says what values mean (for the
    form's choices and for reading); `summed` is False for an item recorded but left out of the totals.
    """

    key: str
    label: str
    minimum: Decimal
    maximum: Decimal
    whole: bool = True
    allowed: tuple[int, ...] = ()
    levels: tuple[tuple[int, str], ...] = ()
    unit: str = ""
    summed: bool = True

    @property
    def range_text(self) -> str:
        if self.allowed:
            return ", ".join(str(value) for value in self.allowed) + (f" {self.unit}" if self.unit else "")
        return f"{_plain(self.minimum)} to {_plain(self.maximum)}"

    def values(self) -> tuple[int, ...]:
        """Every value a whole-number item can take, in order (empty for decimal items)."""
        if self.allowed:
            return self.allowed
        if not self.whole:
            return ()
        return tuple(range(int(self.minimum), int(self.maximum) + 1))

    def level(self, value) -> str:
        return dict(self.levels).get(value, "") if isinstance(value, int) else ""

    def text(self, value) -> str:
        """A stored value as a person reads it: "2 (red)", "50 % (equal)", "3.5 HU"."""
        number = _plain(Decimal(str(value)))
        shown = f"{number} {self.unit}" if self.unit else number
        meaning = self.level(value)
        return f"{shown} ({meaning})" if meaning else shown


@dataclass(frozen=True)
class Total:
    """A total computed from items: the sum of PARTS, each times WEIGHTS[i] % when weights are given.

    Its range is checked after computing, so a total can limit items that are each in range (the hand
    units of all VASI regions together cannot exceed the whole body).
    """

    key: str
    label: str
    minimum: Decimal
    maximum: Decimal
    parts: tuple[str, ...]
    weights: tuple[str, ...] = ()
    limit_reason: str = ""
    short: str | None = ""  # its name in a one-line summary; None leaves it out of the summary

    def compute(self, items: Mapping[str, Decimal]) -> Decimal:
        if self.weights:
            return sum(
                (
                    items[part] * items[weight] / 100
                    for part, weight in zip(self.parts, self.weights, strict=True)
                ),
                Decimal(0),
            )
        return sum((items[part] for part in self.parts), Decimal(0))


@dataclass(frozen=True)
class SeverityScale:
    """A scale: its items, the totals computed from them, and which value is the consultation's score.

    `headline` names the total (or, for a one-item scale, the item) kept as the consultation's
    severity score; None when the scale has no single score (WSRS is rated per side).
    """

    code: str
    label: str
    short: str
    meaning: str
    source: tuple[str, ...]
    items: tuple[Item, ...]
    totals: tuple[Total, ...] = ()
    headline: str | None = None
    groups: tuple[tuple[str, str], ...] = ()  # (item key prefix, heading) to show the items under

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    def item(self, key: str) -> Item:
        return next(item for item in self.items if item.key == key)


@dataclass(frozen=True)
class Scored:
    """A scale's items once checked: JSON-ready values, the exact totals and the score to keep."""

    scale: SeverityScale
    items: dict[str, int | float]
    totals: dict[str, Decimal]
    headline: Decimal | None  # rounded to 2 decimal places, as the consultation keeps it


class SeverityItemsError(ValueError):
    """Bad item scores: PROBLEMS is (key, reason) for each bad item, or for a total out of its range;
    the key is "" when the whole mapping is wrong."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{key}: {message}" if key else message for key, message in problems))


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _d(value) -> Decimal:
    return Decimal(str(value))


def _item(key, label, low, high, *, whole=True, allowed=(), levels=(), unit="", summed=True) -> Item:
    return Item(key, label, _d(low), _d(high), whole, tuple(allowed), tuple(levels), unit, summed)


def _total(key, label, low, high, parts, weights=(), limit_reason="", short="") -> Total:
    return Total(key, label, _d(low), _d(high), tuple(parts), tuple(weights), limit_reason, short)


def _one_item(code, label, short, item: Item, *, meaning, source) -> SeverityScale:
    return SeverityScale(code, label, short, meaning, tuple(source), (item,), headline=item.key)


# POSAS v2.0 [S27]

POSAS_ENDS = ((1, "like normal skin"), (10, "worst imaginable"))
POSAS_OBSERVER_ITEMS = (
    ("vascularity", "Vascularity"),
    ("pigmentation", "Pigmentation"),
    ("thickness", "Thickness"),
    ("relief", "Relief"),
    ("pliability", "Pliability"),
    ("surface_area", "Surface area"),
)
POSAS_PATIENT_ITEMS = (
    ("pain", "Pain"),
    ("itching", "Itching"),
    ("colour", "Colour"),
    ("stiffness", "Stiffness"),
    ("thickness", "Thickness"),
    ("irregularity", "Irregularity"),
)


def _posas_side(side: str, items) -> tuple[tuple[Item, ...], Total]:
    name = side.capitalize()
    scored = tuple(
        _item(f"{side}_{key}", f"{name}: {label.lower()}", 1, 10, levels=POSAS_ENDS) for key, label in items
    )
    overall = _item(
        f"{side}_overall", f"{name}: overall opinion (not added up)", 1, 10, levels=POSAS_ENDS, summed=False
    )
    total = _total(
        f"{side}_total", f"{side.capitalize()} total (6–60)", 6, 60, [i.key for i in scored], short=side
    )
    return (*scored, overall), total


_observer_items, _observer_total = _posas_side("observer", POSAS_OBSERVER_ITEMS)
_patient_items, _patient_total = _posas_side("patient", POSAS_PATIENT_ITEMS)
POSAS = SeverityScale(
    "posas",
    "Patient and Observer Scar Assessment Scale (POSAS) v2.0",
    "POSAS",
    "observer and patient each score six items 1 (like normal skin) to 10 (worst imaginable), added up "
    "to 6–60 per side; each side's overall opinion (1–10) is recorded but not added; the observer "
    "total is the consultation's score",
    ("S27",),
    (*_observer_items, *_patient_items),
    (_observer_total, _patient_total),
    headline="observer_total",
    groups=(("observer_", "Observer"), ("patient_", "Patient")),
)

# Vancouver Scar Scale [S28]; the level descriptors are (sec)

_vss_items = (
    _item("vascularity", "Vascularity", 0, 3, levels=[(0, "normal"), (1, "pink"), (2, "red"), (3, "purple")]),
    _item(
        "pigmentation",
        "Pigmentation",
        0,
        2,
        levels=[(0, "normal"), (1, "hypopigmented"), (2, "hyperpigmented")],
    ),
    _item(
        "pliability",
        "Pliability",
        0,
        5,
        levels=[
            (0, "normal"),
            (1, "supple"),
            (2, "yielding"),
            (3, "firm"),
            (4, "banding"),
            (5, "contracture"),
        ],
    ),
    _item("height", "Height", 0, 3, levels=[(0, "flat"), (1, "< 2 mm"), (2, "2–5 mm"), (3, "> 5 mm")]),
)
VSS = SeverityScale(
    "vss",
    "Vancouver Scar Scale (VSS), 0–13",
    "VSS",
    "vascularity 0–3, pigmentation 0–2, pliability 0–5 and height 0–3, added up; lower is better",
    ("S28",),
    _vss_items,
    (_total("total", "Total (0–13)", 0, 13, [i.key for i in _vss_items]),),
    headline="total",
)

# Single-item scales

GAIS = _one_item(
    "gais",
    "Global Aesthetic Improvement Scale (GAIS), 1–5",
    "GAIS",
    _item(
        "grade",
        "Improvement",
        1,
        5,
        levels=[
            (1, "very much improved"),
            (2, "much improved"),
            (3, "improved"),
            (4, "no change"),
            (5, "worse"),
        ],
    ),
    meaning="the change since an earlier treatment, 1 very much improved to 5 worse; lower is better",
    source=["S29"],
)
GLOGAU = _one_item(
    "glogau",
    "Glogau photoageing type, I–IV",
    "Glogau",
    _item(
        "type",
        "Photoageing type",
        1,
        4,
        levels=[
            (1, "I, mild: no wrinkles"),
            (2, "II, moderate: wrinkles in motion"),
            (3, "III, advanced: wrinkles at rest"),
            (4, "IV, severe: only wrinkles"),
        ],
    ),
    meaning="type I mild to IV severe, recorded as 1–4",
    source=["S32"],
)
ELASA = _one_item(
    "elasa",
    "Evaluator Live Acne Scarring Assessment (ELASA), 0–4",
    "ELASA",
    _item("grade", "Acne scarring", 0, 4, levels=[(0, "clear"), (4, "severe")]),
    meaning="0 clear to 4 severe; a response is an improvement of at least 1 point",
    source=["S11"],
)
REPIGMENTATION_PCT = _one_item(
    "repigmentation_pct",
    "Repigmentation, % of the lesion",
    "Repigmentation",
    _item("repigmented_pct", "Repigmented", 0, 100, whole=False, unit="%"),
    meaning="the raw percentage of the lesion repigmented",
    source=["S18"],
)
REPIGMENTATION_GRADE = _one_item(
    "repigmentation_grade",
    "Repigmentation grade, 0–6",
    "Repigmentation grade",
    _item("grade", "Repigmentation grade", 0, 6, levels=[(0, "none"), (6, "complete (100 %)")]),
    meaning="0 none to 6 complete (100 %)",
    source=["S25"],
)
RE_EPITHELIALISED_PCT = _one_item(
    "re_epithelialised_pct",
    "Re-epithelialised, % of the area",
    "Re-epithelialised",
    _item("re_epithelialised_pct", "Re-epithelialised", 0, 100, whole=False, unit="%"),
    meaning="the percentage of the area covered by new skin",
    source=["S19", "S45"],
)

# Wrinkle Severity Rating Scale, per side [S30]

WSRS_LEVELS = ((1, "absent"), (2, "mild"), (3, "moderate"), (4, "severe"), (5, "extreme"))
WSRS = SeverityScale(
    "wsrs",
    "Wrinkle Severity Rating Scale (WSRS), 1–5 per side",
    "WSRS",
    "each nasolabial fold rated 1 absent, 2 mild, 3 moderate, 4 severe, 5 extreme; the sides are not "
    "added up, so there is no single score",
    ("S30",),
    (
        _item("left", "Left side", 1, 5, levels=WSRS_LEVELS),
        _item("right", "Right side", 1, 5, levels=WSRS_LEVELS),
    ),
)

# VASI [S26]

VASI_LEVELS = (
    (0, "none"),
    (10, "specks of depigmentation"),
    (25, "pigmented area exceeds depigmented"),
    (50, "equal"),
    (75, "depigmented area exceeds pigmented"),
    (90, "specks of pigment"),
    (100, "no pigment"),
)
VASI_ALLOWED = tuple(value for value, _ in VASI_LEVELS)
VASI_REGIONS = (
    ("hands", "Hands"),
    ("upper_limbs", "Upper limbs"),
    ("trunk", "Trunk"),
    ("lower_limbs", "Lower limbs"),
    ("feet", "Feet"),
)
BODY_HAND_UNITS = 100  # one hand unit is about 1 % of the body surface
FACE_HAND_UNITS = 3  # F-VASI has a maximum of about 3


def _vasi_region(region: str, label: str, max_units) -> tuple[Item, Item]:
    return (
        _item(f"{region}_hu", f"{label}: hand units", 0, max_units, whole=False, unit="HU"),
        _item(
            f"{region}_depigmentation",
            f"{label}: residual depigmentation",
            0,
            100,
            allowed=VASI_ALLOWED,
            levels=VASI_LEVELS,
            unit="%",
        ),
    )


_t_vasi_items = tuple(
    item for key, label in VASI_REGIONS for item in _vasi_region(key, label, BODY_HAND_UNITS)
)
_t_vasi_units = [f"{key}_hu" for key, _ in VASI_REGIONS]
T_VASI = SeverityScale(
    "t_vasi",
    "Vitiligo Area Scoring Index, total (T-VASI), 0–100",
    "T-VASI",
    "for each region, the hand units affected (1 hand unit, the patient's palm and five digits, is about "
    "1 % of the body) and the residual depigmentation (0, 10, 25, 50, 75, 90 or 100 %); T-VASI is the "
    "sum of hand units × depigmentation",
    ("S26",),
    _t_vasi_items,
    (
        _total(
            "hand_units",
            "Hand units, all regions",
            0,
            BODY_HAND_UNITS,
            _t_vasi_units,
            limit_reason="more than the whole body",
            short=None,
        ),
        _total(
            "t_vasi", "T-VASI", 0, 100, _t_vasi_units, [f"{key}_depigmentation" for key, _ in VASI_REGIONS]
        ),
    ),
    headline="t_vasi",
    groups=tuple((f"{key}_", label) for key, label in VASI_REGIONS),
)
F_VASI = SeverityScale(
    "f_vasi",
    "Vitiligo Area Scoring Index, face (F-VASI), 0–3",
    "F-VASI",
    "the hand units of the face affected and their residual depigmentation (0, 10, 25, 50, 75, 90 or "
    "100 %); F-VASI is hand units × depigmentation, at most about 3",
    ("S26",),
    _vasi_region("face", "Face", FACE_HAND_UNITS),
    (_total("f_vasi", "F-VASI", 0, FACE_HAND_UNITS, ["face_hu"], ["face_depigmentation"]),),
    headline="f_vasi",
)

# The scales offered for each indication, the usual one first. Repigmentation and VASI are for vitiligo
# only; hypopigmentation (often a scar's) is rated on the pigmentation items of the scar scales.
SCALES_BY_INDICATION: dict[str, tuple[SeverityScale, ...]] = {
    "burn": (VSS, POSAS, RE_EPITHELIALISED_PCT),
    "scar": (VSS, POSAS, ELASA),
    "wound": (RE_EPITHELIALISED_PCT, POSAS),
    "vitiligo": (T_VASI, F_VASI, REPIGMENTATION_PCT, REPIGMENTATION_GRADE),
    "hypopigmentation": (VSS, POSAS),
    "sun_damage": (GLOGAU, WSRS, GAIS),
    "premature_ageing": (WSRS, GLOGAU, GAIS),
}

SCALES: dict[str, SeverityScale] = {
    scale.code: scale for scales in SCALES_BY_INDICATION.values() for scale in scales
}


@dataclass(frozen=True)
class LegacyScale:
    """A scale code of the time when only a total was kept, no longer offered; read, never written."""

    code: str
    label: str
    short: str
    indications: tuple[str, ...]


LEGACY_SCALES: dict[str, LegacyScale] = {
    "posas_observer": LegacyScale(
        "posas_observer", "POSAS v2.0 observer scale, 6–60", "POSAS observer", ("burn", "scar", "wound")
    ),
    "posas_patient": LegacyScale(
        "posas_patient", "POSAS v2.0 patient scale, 6–60", "POSAS patient", ("burn", "scar", "wound")
    ),
}

# Burns and wounds described

BURN_DEPTHS: dict[str, str] = {
    "superficial": "Superficial",
    "partial_thickness_superficial": "Partial thickness, superficial",
    "partial_thickness_deep": "Partial thickness, deep",
    "full_thickness": "Full thickness",
}


@dataclass(frozen=True)
class Descriptor:
    """A value describing a burn or a wound: one of CHOICES, or a number in [minimum, maximum]."""

    key: str
    label: str
    indication: str
    source: tuple[str, ...]
    choices: dict[str, str] = field(default_factory=dict)
    minimum: Decimal = Decimal(0)
    maximum: Decimal = Decimal(0)
    whole: bool = False
    unit: str = ""

    def text(self, value) -> str:
        if self.choices:
            return self.choices.get(value, str(value))
        number = _plain(Decimal(str(value)))
        return f"{number} {self.unit}" if self.unit else number


DESCRIPTORS: dict[str, Descriptor] = {
    d.key: d
    for d in (
        Descriptor(
            "burn_depth",
            "Burn depth (the deepest part)",
            "burn",
            ("S13", "S45", "S46"),
            choices=BURN_DEPTHS,
        ),
        Descriptor(
            "burn_tbsa_pct",
            "Burnt area, % of the total body surface area",
            "burn",
            ("S46",),
            minimum=Decimal(0),
            maximum=Decimal(100),
            unit="% TBSA",
        ),
        Descriptor(
            "wound_area_cm2",
            "Wound area (cm²)",
            "wound",
            ("S43", "S44"),
            minimum=HUNDREDTH,
            maximum=Decimal(20000),  # about the whole skin of an adult (2 m²)
            unit="cm²",
        ),
        Descriptor(
            "wound_duration_weeks",
            "Open for (weeks)",
            "wound",
            ("S43", "S44"),
            minimum=Decimal(0),
            maximum=Decimal(2600),  # 50 years
            whole=True,
            unit="weeks",
        ),
    )
}
DESCRIPTORS_BY_INDICATION: dict[str, tuple[Descriptor, ...]] = {
    indication: tuple(d for d in DESCRIPTORS.values() if d.indication == indication)
    for indication in ("burn", "wound")
}

# Messages

SCALE_NEEDS_INDICATION = "choose the indication first"
SCALE_WRONG_FOR_INDICATION = "is not a scale for {indication}; use one of: {codes}"
SCALE_UNKNOWN = "unknown scale; use one of: {codes}"
SCALE_LEGACY = "kept only a total and is no longer recorded; use one of: {codes}"
SCORE_NEEDS_SCALE = "choose the scale this score is on"
ITEMS_NOT_A_MAPPING = "must be a mapping of item to score"
ITEM_MISSING = "missing: give {range}"
ITEM_MISSING_RANGE = "a value from {low} to {high}"
ITEM_UNKNOWN = "is not an item of the {label}"
ITEM_NOT_A_NUMBER = "must be a number"
ITEM_OUT_OF_RANGE = "must be from {low} to {high}"
ITEM_NOT_WHOLE = "must be a whole number from {low} to {high}"
ITEM_NOT_ALLOWED = "must be one of {values}"
ITEM_TOO_PRECISE = "can have at most 2 decimal places"
TOTAL_OUT_OF_RANGE = "add up to {value}{reason}; at most {high}"
DESCRIPTOR_WRONG_INDICATION = "only for {indication}; clear it, or record the indication as {indication}"
DESCRIPTOR_UNKNOWN_CHOICE = "use one of: {codes}"


# Checking


def scales_for(indication: str) -> tuple[SeverityScale, ...]:
    """The scales offered for INDICATION (none for an unknown one)."""
    return SCALES_BY_INDICATION.get(indication, ())


def descriptors_for(indication: str) -> tuple[Descriptor, ...]:
    """What describes INDICATION besides its scale: a burn's depth and area, a wound's area and age."""
    return DESCRIPTORS_BY_INDICATION.get(indication, ())


def scale_label(code: str) -> str:
    """The scale's name, for a current or a legacy code; the code itself when unknown."""
    if code in SCALES:
        return SCALES[code].label
    if code in LEGACY_SCALES:
        return LEGACY_SCALES[code].label
    return code


def scale_problem(indication: str, code: str) -> str | None:
    """Why scale CODE cannot be recorded for INDICATION; None when it can."""
    codes = ", ".join(s.code for s in scales_for(indication))
    if not indication:
        return SCALE_NEEDS_INDICATION
    if code in LEGACY_SCALES:
        return SCALE_LEGACY.format(codes=codes)
    if code not in SCALES:
        return SCALE_UNKNOWN.format(codes=codes)
    if code not in {s.code for s in scales_for(indication)}:
        return SCALE_WRONG_FOR_INDICATION.format(indication=indication, codes=codes)
    return None


def scale_fits(indication: str, code: str) -> bool:
    """Whether CODE may stand on a consultation for INDICATION: offered now, or a legacy code of its time."""
    if code in LEGACY_SCALES:
        return indication in LEGACY_SCALES[code].indications
    return code in {s.code for s in scales_for(indication)}


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_number(raw) -> tuple[Decimal | None, str | None]:
    """(value, None) for a finite number or numeric text; (None, reason) otherwise; (None, None) blank."""
    if is_blank(raw):
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        return None, ITEM_NOT_A_NUMBER
    try:
        value = Decimal(raw.strip() if isinstance(raw, str) else str(raw))
    except (InvalidOperation, ValueError):
        return None, ITEM_NOT_A_NUMBER
    if not value.is_finite():
        return None, ITEM_NOT_A_NUMBER
    return value, None


def _range_problem(value: Decimal, minimum: Decimal, maximum: Decimal, whole: bool) -> str | None:
    low, high = _plain(minimum), _plain(maximum)
    if not minimum <= value <= maximum:
        return (ITEM_NOT_WHOLE if whole else ITEM_OUT_OF_RANGE).format(low=low, high=high)
    if whole and value != value.to_integral_value():
        return ITEM_NOT_WHOLE.format(low=low, high=high)
    if value != value.quantize(HUNDREDTH):
        return ITEM_TOO_PRECISE
    return None


def item_problem(item: Item, raw) -> tuple[Decimal | None, str | None]:
    """(value, None) when RAW is a valid score for ITEM, else (None, why)."""
    value, problem = parse_number(raw)
    if problem:
        return None, problem
    if value is None:
        wanted = (
            f"one of {item.range_text}"
            if item.allowed
            else ITEM_MISSING_RANGE.format(low=_plain(item.minimum), high=_plain(item.maximum))
        )
        return None, ITEM_MISSING.format(range=wanted)
    problem = _range_problem(value, item.minimum, item.maximum, item.whole or bool(item.allowed))
    if item.allowed and (problem or int(value) not in item.allowed):
        return None, ITEM_NOT_ALLOWED.format(values=item.range_text)
    return (None, problem) if problem else (value, None)


def json_number(value: Decimal) -> int | float:
    """A checked value as JSON keeps it: whole numbers as integers, others exactly to 2 decimals."""
    if value == value.to_integral_value():
        return int(value)
    return float(value.quantize(HUNDREDTH))


def score_items(code: str, items) -> Scored:
    """Check ITEMS (item key -> score) for scale CODE: every item given, known and in range.

    Answers the normalised items with the totals computed from them; raises SeverityItemsError naming
    each bad item (missing, unknown, not a number, out of range, not whole, not an allowed level, too
    precise) and each total out of its range. Blank text counts as missing.
    """
    scale = SCALES.get(code)
    if scale is None:
        raise ValueError(f"unknown scale {code!r}")
    if not isinstance(items, Mapping):
        raise SeverityItemsError([("", ITEMS_NOT_A_MAPPING)])
    problems: list[tuple[str, str]] = []
    values: dict[str, Decimal] = {}
    for item in scale.items:
        value, problem = item_problem(item, items.get(item.key))
        if problem:
            problems.append((item.key, problem))
        else:
            values[item.key] = value
    known = set(scale.item_keys)
    for key in sorted(str(key) for key in items if key not in known):
        problems.append((key, ITEM_UNKNOWN.format(label=scale.label)))
    if problems:
        raise SeverityItemsError(problems)
    totals = {total.key: total.compute(values) for total in scale.totals}
    for total in scale.totals:  # the first total out of range is the one to mend: the others follow it
        if not total.minimum <= totals[total.key] <= total.maximum:
            reason = f", {total.limit_reason}" if total.limit_reason else ""
            message = TOTAL_OUT_OF_RANGE.format(
                value=_plain(totals[total.key]), reason=reason, high=_plain(total.maximum)
            )
            raise SeverityItemsError([(total.key, f"{total.label}: {message}")])
    headline = None
    if scale.headline is not None:
        headline = (totals.get(scale.headline, values.get(scale.headline))).quantize(
            HUNDREDTH, rounding=ROUND_HALF_UP
        )
    return Scored(scale, {key: json_number(values[key]) for key in scale.item_keys}, totals, headline)


def descriptor_value(key: str, raw) -> tuple[str | Decimal | None, str | None]:
    """(value, None) for a valid value of descriptor KEY, (None, None) when blank, (None, why) when bad."""
    descriptor = DESCRIPTORS[key]
    if descriptor.choices:
        if is_blank(raw):
            return None, None
        if not isinstance(raw, str) or raw.strip() not in descriptor.choices:
            return None, DESCRIPTOR_UNKNOWN_CHOICE.format(codes=", ".join(descriptor.choices))
        return raw.strip(), None
    value, problem = parse_number(raw)
    if problem or value is None:
        return None, problem
    problem = _range_problem(value, descriptor.minimum, descriptor.maximum, descriptor.whole)
    return (None, problem) if problem else (value, None)


def descriptor_problem(indication: str, key: str) -> str | None:
    """Why descriptor KEY cannot be recorded for INDICATION; None when it can."""
    wanted = DESCRIPTORS[key].indication
    return None if indication == wanted else DESCRIPTOR_WRONG_INDICATION.format(indication=wanted)


# Reading


def totals_of(code: str, items: Mapping) -> dict[str, Decimal]:
    """The totals of stored ITEMS on scale CODE (none for a legacy code or incomplete items)."""
    scale = SCALES.get(code)
    if scale is None or not items:
        return {}
    try:
        values = {key: Decimal(str(items[key])) for key in scale.item_keys}
    except (KeyError, InvalidOperation):
        return {}
    return {total.key: total.compute(values) for total in scale.totals}


@dataclass(frozen=True)
class Line:
    label: str
    value: str


@dataclass(frozen=True)
class Group:
    heading: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Reading:
    """A recorded severity as a person reads it: the scale, its items by group, the totals."""

    code: str
    label: str
    summary: str  # one line, for lists
    groups: tuple[Group, ...]
    totals: tuple[Line, ...]
    total_only: bool  # recorded before item scores were kept


def _number_text(value: Decimal) -> str:
    return _plain(value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP))


def read(code: str, items: Mapping | None, score) -> Reading | None:
    """The severity recorded as scale CODE, ITEMS and SCORE, for display; None when none is recorded."""
    if not code:
        return None
    scale = SCALES.get(code)
    items = dict(items or {})
    if scale is None or not items:
        legacy = LEGACY_SCALES.get(code)
        short = scale.short if scale else legacy.short if legacy else code
        value = "not recorded" if score is None else _plain(Decimal(str(score)))
        summary = f"{short} {value} (total only)"
        return Reading(code, scale_label(code), summary, (), (Line("Total", value),), total_only=True)
    groups: list[Group] = []
    prefixes = scale.groups or (("", ""),)
    for prefix, heading in prefixes:
        lines = []
        for item in scale.items:
            if item.key.startswith(prefix) and item.key in items:
                label = item.label.split(": ", 1)[-1] if prefix and ": " in item.label else item.label
                lines.append(Line(label[0].upper() + label[1:], item.text(items[item.key])))
        groups.append(Group(heading, tuple(lines)))
    totals = totals_of(code, items)
    total_lines = tuple(Line(t.label, _number_text(totals[t.key])) for t in scale.totals if t.key in totals)
    if scale.totals:
        parts = [
            f"{t.short} {_number_text(totals[t.key])}" if t.short else _number_text(totals[t.key])
            for t in scale.totals
            if t.short is not None and t.key in totals
        ]
    else:
        parts = [
            (f"{item.key} " if len(scale.items) > 1 else "")
            + _plain(Decimal(str(items[item.key])))
            + (" %" if item.unit == "%" else "")
            for item in scale.items
            if item.key in items
        ]
    summary = f"{scale.short} {', '.join(parts)}"
    return Reading(code, scale.label, summary, tuple(groups), total_lines, total_only=False)
