"""The shape of a therapy protocol file and of the alternatives file, as pydantic models.

Plain data and plain functions, no Django imports: the loader, the pages and the candidacy rules all
use it. Pydantic checks names and types; `problems()` on each node checks the rules that span fields
(min <= max, a number needs a source or an `unverified` flag, scoped indications exist, ...).
"""

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from cellclinic.catalogue.vocabulary import (
    ALLERGY_CODES,
    ALLERGY_ITEMS,
    CONDITION_FACTS,
    HISTORY_CODES,
    HISTORY_ITEMS,
    INDICATIONS,
)

IndicationCode = StrEnum("IndicationCode", {code.upper(): code for code in INDICATIONS})
ScreeningCode = StrEnum("ScreeningCode", {code.upper(): code for code in (*HISTORY_CODES, *ALLERGY_CODES)})
ConditionFact = StrEnum("ConditionFact", {key.upper(): key for key in CONDITION_FACTS})


class StepCode(StrEnum):
    """The steps of a procedure; each brings its own risks, whatever the therapy (steps.toml)."""

    HARVEST = "harvest"
    BED_PREPARATION = "bed_preparation"
    INJECTION = "injection"
    APPLICATION = "application"


class AreaCode(StrEnum):
    """Body areas a treatment is given to; "body" in the public questionnaire reads as trunk."""

    FACE = "face"
    NECK = "neck"
    SCALP = "scalp"
    HANDS = "hands"
    ARMS = "arms"
    LEGS = "legs"
    FEET = "feet"
    TRUNK = "trunk"
    OTHER = "other"


AREA_LABELS: dict[str, str] = {
    "face": "Face",
    "neck": "Neck",
    "scalp": "Scalp",
    "hands": "Hands",
    "arms": "Arms",
    "legs": "Legs",
    "feet": "Feet",
    "trunk": "Chest, back or tummy (trunk)",
    "other": "Somewhere else",
}


class CellSource(StrEnum):
    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class ProcessingKind(StrEnum):
    CULTURE = "culture"
    POINT_OF_CARE = "point_of_care"
    MANUFACTURED = "manufactured"


class TimeUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class ShelfLifeStart(StrEnum):
    FORMULATION = "formulation"
    RELEASE = "release"
    MANUFACTURE = "manufacture"
    PREPARATION = "preparation"
    THAWING = "thawing"
    OPENING = "opening"
    # Frozen products whose label counts the shelf life from freezing (e.g. Dermagraft).
    CRYOPRESERVATION = "cryopreservation"


class DeliveryMethod(StrEnum):
    INJECTION = "injection"
    SPRAY = "spray"
    DRIP = "drip"
    SUSPENSION = "suspension"
    SHEET = "sheet"


class Operator(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="
    BETWEEN = "between"


class FollowUpAnchor(StrEnum):
    FIRST_TREATMENT = "first_treatment"
    LAST_TREATMENT = "last_treatment"


class EvidenceKind(StrEnum):
    EFFICACY = "efficacy"
    SAFETY = "safety"
    FEASIBILITY = "feasibility"
    LIMITATION = "limitation"


class OutcomeScale(StrEnum):
    POSAS = "posas"
    VSS = "vss"
    VASI = "vasi"
    REPIGMENTATION_PCT = "repigmentation_pct"
    GAIS = "gais"
    WSRS = "wsrs"
    ELASA = "elasa"
    RE_EPITHELIALISATION_PCT = "re_epithelialisation_pct"
    DONOR_SITE_HEALING_DAYS = "donor_site_healing_days"
    PAIN_NRS = "pain_nrs"
    ITCH_NRS = "itch_nrs"


LABELS: dict[type[StrEnum], dict[str, str]] = {
    IndicationCode: INDICATIONS,
    AreaCode: AREA_LABELS,
    ScreeningCode: {item.code: item.label for item in (*HISTORY_ITEMS, *ALLERGY_ITEMS)},
    StepCode: {
        "harvest": "Harvest",
        "bed_preparation": "Bed preparation",
        "injection": "Injection",
        "application": "Application",
    },
    CellSource: {
        "autologous": "Autologous (the patient's own cells)",
        "allogeneic": "Allogeneic (donor cells)",
    },
    ProcessingKind: {
        "culture": "Culture in the lab",
        "point_of_care": "Point of care, at the bedside",
        "manufactured": "Manufactured product",
    },
    DeliveryMethod: {
        "injection": "Injection",
        "spray": "Spray",
        "drip": "Drip",
        "suspension": "Suspension applied to a prepared bed",
        "sheet": "Sheet or disc",
    },
    FollowUpAnchor: {
        "first_treatment": "after the first treatment",
        "last_treatment": "after the last treatment",
    },
    EvidenceKind: {
        "efficacy": "Efficacy",
        "safety": "Safety",
        "feasibility": "Feasibility",
        "limitation": "Limitation",
    },
    OutcomeScale: {
        "posas": "POSAS v2.0 (observer and patient)",
        "vss": "Vancouver Scar Scale",
        "vasi": "Vitiligo Area Scoring Index (VASI)",
        "repigmentation_pct": "Repigmentation, % of lesion",
        "gais": "Global Aesthetic Improvement Scale (GAIS)",
        "wsrs": "Wrinkle Severity Rating Scale (WSRS)",
        "elasa": "Evaluator Live Acne Scarring Assessment (ELASA)",
        "re_epithelialisation_pct": "Re-epithelialisation, % of area",
        "donor_site_healing_days": "Donor-site healing time, days",
        "pain_nrs": "Pain numeric rating scale",
        "itch_nrs": "Itch numeric rating scale",
    },
}


def code_label(value: StrEnum | str) -> str:
    """A reader's name for a catalogue code; anything else as it is."""
    if not isinstance(value, StrEnum):
        return str(value)
    return LABELS.get(type(value), {}).get(value.value, value.value)


# Calendar months vary; putting follow-up visits in order only needs a consistent average.
DAYS_PER_UNIT: dict[str, float] = {
    "minutes": 1 / 1440,
    "hours": 1 / 24,
    "days": 1,
    "weeks": 7,
    "months": 365.25 / 12,
}


def _as_list(value: Any) -> Any:
    """Let a file write `source = "S1"` for a single tag."""
    return [value] if isinstance(value, str) else value


def _code(enum: type[StrEnum]) -> Any:
    """A code read from a file: a plain string there, where strict mode would demand an enum instance."""
    return Annotated[enum, Strict(False)]


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
SourceTag = Annotated[str, StringConstraints(pattern=r"^S[0-9]+[a-z]?$")]
SourceTags = Annotated[list[SourceTag], BeforeValidator(_as_list)]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+){0,2}$")]
VersionKey = tuple[int, int, int]
Indications = list[_code(IndicationCode)]

FieldPath = tuple[str | int, ...]
Problem = tuple[FieldPath, str]


def version_key(version: str) -> VersionKey | None:
    """A version as numbers: "1.10" -> (1, 10, 0), so 1.10 comes after 1.9; None if malformed."""
    parts = version.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    major, minor, patch = ([int(part) for part in parts] + [0, 0])[:3]
    return major, minor, patch


def number(value: float) -> str:
    """3.0 -> "3", 0.15 -> "0.15", -75 -> "−75" (a true minus sign)."""
    return f"{value:g}".replace("-", "\u2212")


def quantity(amount: str, unit: str) -> str:
    """An amount and its unit: 30 and % read 30%, 3 and mm read 3 mm."""
    return f"{amount}{unit}" if unit.startswith("%") else f"{amount} {unit}"


def with_unit(amount: float, unit: str) -> str:
    """An amount of a time unit, singular for exactly one: 1 hour, 3 hours."""
    if amount == 1 and unit in DAYS_PER_UNIT:
        return f"{number(amount)} {unit[:-1]}"
    return f"{number(amount)} {unit}"


class Node(BaseModel):
    """A part of a catalogue file: unknown keys, loose types and later edits are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def problems(self) -> Iterator[Problem]:
        """Rules across this node's fields, as (path from this node, message) pairs."""
        return iter(())


def iter_nodes(node: Node, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Node]]:
    """NODE and every node below it, each with its path."""
    yield path, node
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, Node):
            yield from iter_nodes(value, (*path, name))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Node):
                    yield from iter_nodes(item, (*path, name, index))


def iter_problems(node: Node) -> Iterator[Problem]:
    """Every rule broken in NODE or below it, with full paths."""
    for path, child in iter_nodes(node):
        for where, message in child.problems():
            yield (*path, *where), message


def iter_citations(node: Node) -> Iterator[tuple[FieldPath, str]]:
    """(path, tag) for every source tag cited in NODE or below it."""
    for path, child in iter_nodes(node):
        for tag in getattr(child, "source", None) or ():
            yield (*path, "source"), tag


def _missing_sources(node: Node, sources: dict[str, str]) -> Iterator[Problem]:
    for path, tag in iter_citations(node):
        if tag not in sources:
            yield path, f"{tag} is not listed in [sources]"


class Sourced(Node):
    """A stated fact: it cites a source tag, or says openly that no source confirms it."""

    source: SourceTags = Field(default_factory=list)
    unverified: bool = False
    note: Text | None = None

    def problems(self) -> Iterator[Problem]:
        if not self.source and not self.unverified:
            yield ("source",), 'needs a source tag (e.g. "S1"), or unverified = true'


class Ranged(Sourced):
    """A number given as `value`, or as `min` and/or `max`."""

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        value, low, high = getattr(self, "value", None), self.min, self.max
        if value is None and low is None and high is None:
            yield ("value",), "give value, or min and/or max"
        elif value is not None and (low is not None or high is not None):
            yield ("value",), "give either value or min/max, not both"
        elif low is not None and high is not None and low > high:
            yield ("max",), f"must be at least min ({number(low)}), got {number(high)}"

    @property
    def amount(self) -> str:
        """The number as a reader says it: 11–22, about 3, up to 5, at least 18, −85 to −65."""
        value, low, high = getattr(self, "value", None), self.min, self.max
        about = "about " if getattr(self, "approximate", False) else ""
        if value is not None:
            return about + number(value)
        if low is not None and high is not None:
            if low == high:
                return about + number(low)
            joiner = " to " if low < 0 or high < 0 else "\u2013"
            return f"{about}{number(low)}{joiner}{number(high)}"
        if high is not None:
            return f"{about}up to {number(high)}"
        return f"{about}at least {number(low)}"

    @property
    def single(self) -> float | None:
        """The one number when there is exactly one (value, or min == max)."""
        value = getattr(self, "value", None)
        if value is not None:
            return value
        return self.min if self.min is not None and self.min == self.max else None


class SourcedText(Sourced):
    text: Text


class Figure(Ranged):
    """A quantity with its unit, e.g. 0.1 mL per linear cm of fold, or 0.15–0.20 mm."""

    label: Text | None = None
    value: float | None = None
    min: float | None = None
    max: float | None = None
    unit: Text
    per: Text | None = None
    approximate: bool = False

    @property
    def text(self) -> str:
        per = f" per {self.per}" if self.per else ""
        return quantity(self.amount, self.unit) + per


class Duration(Ranged):
    """A span of time, e.g. 11–22 weeks of culture or 15–30 minutes at the bedside."""

    value: float | None = Field(default=None, ge=0)
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    unit: _code(TimeUnit)
    approximate: bool = False

    @property
    def text(self) -> str:
        if self.single == 1:
            return f"{self.amount} {self.unit.value[:-1]}"
        return f"{self.amount} {self.unit.value}"


class DayWindow(Ranged):
    """Days between sessions: value for a fixed interval, or min and/or max."""

    value: int | None = Field(default=None, ge=0)
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @property
    def text(self) -> str:
        return f"{self.amount} {'day' if self.single == 1 else 'days'}"


class Count(Ranged):
    value: int | None = Field(default=None, ge=1)
    min: int | None = Field(default=None, ge=1)
    max: int | None = Field(default=None, ge=1)

    @property
    def text(self) -> str:
        return self.amount


class Whole(Sourced):
    """One whole number with its source, e.g. a minimum age."""

    value: int = Field(ge=0)


class TemperatureRange(Ranged):
    """Degrees Celsius, from min to max."""

    min: float
    max: float

    @property
    def text(self) -> str:
        return f"{self.amount} °C"


class Requirement(Sourced):
    """A condition of the label the answers must meet: a yes/no fact, or a number of months or weeks.

    `text` says in plain words what the label needs ("an ulcer that has had at least 4 weeks of wound
    care"); the self-assessment shows it when the answers do not meet it or do not say.
    """

    fact: _code(ConditionFact)
    equals: bool | None = None
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    text: Text

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        kind = CONDITION_FACTS[self.fact.value]
        if kind == "yes_no":
            if self.equals is None or self.at_least is not None or self.at_most is not None:
                yield ("equals",), f"{self.fact.value!r} is a yes/no fact: give equals = true or false"
        elif self.equals is not None or (self.at_least is None and self.at_most is None):
            yield ("at_least",), f"{self.fact.value!r} is a number of {kind}: give at_least and/or at_most"
        elif self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            yield ("at_most",), f"must be at least at_least ({self.at_least}), got {self.at_most}"

    def met(self, value: bool | int | None) -> bool | None:
        """True or False when VALUE meets the requirement or not; None when VALUE is unknown."""
        if value is None:
            return None
        if self.equals is not None:
            return value is self.equals
        if self.at_least is not None and value < self.at_least:
            return False
        return not (self.at_most is not None and value > self.at_most)


class Indication(Sourced):
    code: _code(IndicationCode)
    condition: Text
    min_age_years: Whole | None = None
    # For labels that start in infancy (e.g. from 1 month of age).
    min_age_months: Whole | None = None
    max_age_years: Whole | None = None
    stable_for_months: Whole | None = None
    # The body areas this indication is treated on; empty means any area.
    areas: list[_code(AreaCode)] = Field(default_factory=list)
    requires: list[Requirement] = Field(default_factory=list)

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        if self.min_age_years is not None and self.min_age_months is not None:
            yield ("min_age_months",), "give min_age_years or min_age_months, not both"
        low = self.min_age_years.value if self.min_age_years is not None else 0
        if self.max_age_years is not None and self.max_age_years.value < low:
            yield ("max_age_years",), f"must be at least min_age_years ({low})"
        if self.code == "vitiligo" and self.stable_for_months is None:
            yield ("stable_for_months",), "required for vitiligo (months of stable disease before grafting)"
        seen: set[str] = set()
        for index, area in enumerate(self.areas):
            if area in seen:
                yield ("areas", index), f"{area.value!r} is listed twice"
            seen.add(area)

    def treats_area(self, area: str) -> bool:
        """True when this indication is treated on AREA (an indication without areas: any area)."""
        return not self.areas or area in {a.value for a in self.areas}


class Restriction(Sourced):
    """A contraindication or caution; `screening` names the checklist answer that raises it.

    `text` is the clinician's wording; `patient`, when given, says the same in plain words for the
    self-assessment and the consent.
    """

    code: Slug
    text: Text
    patient: Text | None = None
    screening: _code(ScreeningCode) | None = None
    indications: Indications = Field(default_factory=list)
    # An instruction for the team handling the cells (rinse agents off, autologous use only), not a
    # risk to the patient: it stays out of the consent and the self-assessment.
    handling: bool = False

    @property
    def plain(self) -> str:
        return self.patient or self.text


class Exemption(Node):
    """A screening answer that does not matter for this therapy, with the source that says so.

    Without an exemption every "yes" on the checklist sends the person to a practitioner.
    """

    screening: _code(ScreeningCode)
    why: Text
    source: SourceTags = Field(min_length=1)


class PatientLine(Node):
    """A sentence written for patients, optionally only for some indications, with its source."""

    text: Text
    indications: Indications = Field(default_factory=list)
    source: SourceTags = Field(default_factory=list)


class PatientTexts(Node):
    """What patients read about a therapy: plain words, separate from the clinicians' fields."""

    # The therapy's name in plain words, as the self-assessment and the consent call it.
    name: Text
    about: Text
    how: list[PatientLine] = Field(min_length=1)
    recovery: list[PatientLine] = Field(min_length=1)
    risks: list[PatientLine] = Field(default_factory=list)
    benefits: list[PatientLine] = Field(default_factory=list)


class Study(Sourced):
    """The study an investigational therapy is offered in: a research consent names it."""

    title: Text
    registry: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}[0-9A-Z-]{4,20}$")]
    statement: Text


class Harvest(Node):
    """Where the patient's own cells come from. The sizes carry their sources."""

    what: Text
    where: Text
    count: int | None = Field(default=None, ge=1)
    size: list[Figure] = Field(default_factory=list)
    source: SourceTags = Field(default_factory=list)


class Processing(Node):
    kind: _code(ProcessingKind)
    description: Text
    duration: Duration | None = None
    figures: list[Figure] = Field(default_factory=list)
    notes: list[SourcedText] = Field(default_factory=list)


class ReleaseCriterion(Sourced):
    """A test the product passes before release: an operator and limit, or an expected result."""

    test: Text
    operator: _code(Operator) | None = None
    limit: float | None = None
    limit_max: float | None = None
    unit: Text | None = None
    expected: Text | None = None

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        if self.expected is None and self.operator is None:
            yield ("operator",), "give operator and limit, or an expected result"
        if self.operator is not None and self.limit is None:
            yield ("limit",), f"required with operator {self.operator.value!r}"
        if self.operator == Operator.BETWEEN:
            if self.limit_max is None:
                yield ("limit_max",), "required with operator 'between'"
            elif self.limit is not None and self.limit > self.limit_max:
                yield (
                    ("limit_max",),
                    f"must be at least limit ({number(self.limit)}), got {number(self.limit_max)}",
                )
        elif self.limit_max is not None:
            yield ("limit_max",), "only used with operator 'between'"

    @property
    def specification(self) -> str:
        """The limit as a reader says it (≥ 70%, 1–2 ×10⁷ cells/mL), or the expected result."""
        if self.operator is None or self.limit is None:
            return self.expected or ""
        if self.operator == Operator.BETWEEN and self.limit_max is not None:
            amount = f"{number(self.limit)}\u2013{number(self.limit_max)}"
        else:
            symbol = {"<=": "≤", ">=": "≥"}.get(self.operator.value, self.operator.value)
            amount = f"{symbol} {number(self.limit)}"
        return quantity(amount, self.unit) if self.unit else amount


class ShelfLife(Sourced):
    """The product is used at most `max` units after `after` (formulation, opening, ...)."""

    max: float = Field(gt=0)
    unit: _code(TimeUnit)
    after: _code(ShelfLifeStart)
    condition: Text | None = None

    @property
    def text(self) -> str:
        return f"{with_unit(self.max, self.unit.value)} after {self.after.value}"


class Storage(Node):
    temperature_c: TemperatureRange | None = None
    transport: SourcedText | None = None
    handling: list[SourcedText] = Field(default_factory=list)
    before_use: list[SourcedText] = Field(default_factory=list)


class Dose(Figure):
    indications: Indications = Field(default_factory=list)


class Delivery(Node):
    methods: list[_code(DeliveryMethod)] = Field(min_length=1)
    description: Text
    source: SourceTags = Field(default_factory=list)
    dose: list[Dose] = Field(default_factory=list)
    checks: list[SourcedText] = Field(default_factory=list)


class Sessions(Node):
    count: Count
    interval_days: DayWindow | None = None
    notes: list[SourcedText] = Field(default_factory=list)


class AftercareItem(SourcedText):
    duration: Duration | None = None
    indications: Indications = Field(default_factory=list)


class Aftercare(Node):
    treated_area: list[AftercareItem] = Field(default_factory=list)
    harvest_site: list[AftercareItem] = Field(default_factory=list)


class Visit(Node):
    at: float = Field(ge=0)
    unit: _code(TimeUnit)
    label: Text
    primary_endpoint: bool = False
    note: Text | None = None

    @property
    def days(self) -> float:
        """Days after the anchor, counting a month as an average month."""
        return self.at * DAYS_PER_UNIT[self.unit.value]

    @property
    def text(self) -> str:
        return with_unit(self.at, self.unit.value)


class FollowUpSchedule(Sourced):
    name: Text
    anchor: _code(FollowUpAnchor)
    indications: Indications = Field(default_factory=list)
    visits: list[Visit] = Field(min_length=1)

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        for index in range(1, len(self.visits)):
            before, after = self.visits[index - 1], self.visits[index]
            if after.days <= before.days:
                yield (
                    ("visits", index, "at"),
                    f"visits must be in time order: {after.text} is not after {before.text}",
                )


class ScaleUse(Node):
    code: _code(OutcomeScale)
    indications: Indications = Field(default_factory=list)
    note: Text | None = None
    source: SourceTags = Field(default_factory=list)


class Evidence(Sourced):
    """A published finding for setting expectations: a sentence, with its numbers when there are any."""

    kind: _code(EvidenceKind)
    finding: Text
    measure: Text | None = None
    value: float | None = None
    unit: Text | None = None
    comparator: Text | None = None
    comparator_value: float | None = None
    timepoint: Text | None = None
    population: Text | None = None
    indications: Indications = Field(default_factory=list)

    def problems(self) -> Iterator[Problem]:
        yield from super().problems()
        if self.value is not None and self.unit is None:
            yield ("unit",), "required when value is given"
        if self.comparator_value is not None and self.comparator is None:
            yield ("comparator",), 'name the comparator (e.g. "placebo") when comparator_value is given'

    @property
    def result(self) -> str:
        """The numbers, e.g. 30% vs 8% with placebo; empty when the finding has none."""
        if self.value is None or self.unit is None:
            return ""
        text = quantity(number(self.value), self.unit)
        if self.comparator_value is not None:
            text += f" vs {quantity(number(self.comparator_value), self.unit)} with {self.comparator}"
        return text


class Gap(Node):
    """A number no source confirms: left out of the file, and said so where a reader will look."""

    topic: Text
    text: Text


class Therapy(Node):
    """One therapy protocol file."""

    code: Slug
    name: Text
    version: Version
    summary: Text
    reference_products: list[Text] = Field(default_factory=list)
    investigational: bool = False
    cell_source: _code(CellSource)
    cell_type: Text
    indications: list[Indication] = Field(min_length=1)
    contraindications: list[Restriction] = Field(default_factory=list)
    cautions: list[Restriction] = Field(default_factory=list)
    harvest: Harvest | None = None
    processing: Processing
    release_criteria: list[ReleaseCriterion] = Field(default_factory=list)
    shelf_life: list[ShelfLife] = Field(default_factory=list)
    storage: Storage | None = None
    delivery: Delivery
    sessions: Sessions
    aftercare: Aftercare = Field(default_factory=Aftercare)
    follow_up: list[FollowUpSchedule] = Field(default_factory=list)
    outcome_scales: list[ScaleUse] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    regulatory: list[SourcedText] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    # The steps of the procedure, in order; each brings its own screening risks (steps.toml).
    steps: list[_code(StepCode)] = Field(min_length=1)
    exemptions: list[Exemption] = Field(default_factory=list)
    patient: PatientTexts
    study: Study | None = None
    sources: dict[SourceTag, Text] = Field(default_factory=dict)

    def problems(self) -> Iterator[Problem]:
        if self.cell_source == CellSource.AUTOLOGOUS and self.harvest is None:
            yield ("harvest",), "required for an autologous therapy (where the patient's cells come from)"
        if self.cell_source == CellSource.ALLOGENEIC and self.harvest is not None:
            yield ("harvest",), "an allogeneic product is made from donor cells: leave harvest out"
        if (StepCode.HARVEST in self.steps) != (self.harvest is not None):
            yield ("steps",), "lists harvest exactly when the therapy has a harvest section"
        if len(set(self.steps)) != len(self.steps):
            yield ("steps",), "each step once"
        if self.investigational and self.study is None:
            yield ("study",), "required for an investigational therapy (it is offered only within a study)"
        seen: set[str] = set()
        for index, exemption in enumerate(self.exemptions):
            if exemption.screening.value in seen:
                yield ("exemptions", index, "screening"), "listed twice"
            seen.add(exemption.screening.value)
        yield from _duplicate_codes({"contraindications": self.contraindications, "cautions": self.cautions})
        yield from self._scope_problems()
        yield from _missing_sources(self, self.sources)

    def _scope_problems(self) -> Iterator[Problem]:
        """Anything limited to some indications names indications of this therapy."""
        own = set(self.indication_codes)
        for path, node in iter_nodes(self):
            if not path or path[0] == "indications":
                continue
            for index, code in enumerate(getattr(node, "indications", None) or ()):
                if code not in own:
                    yield (
                        (*path, "indications", index),
                        f"{code.value!r} is not one of this therapy's indications",
                    )

    @property
    def indication_codes(self) -> list[StrEnum]:
        """Each indication code once, in file order."""
        return list(dict.fromkeys(i.code for i in self.indications))

    @property
    def plain_name(self) -> str:
        """The name a patient reads."""
        return self.patient.name

    @property
    def autologous(self) -> bool:
        return self.cell_source == CellSource.AUTOLOGOUS

    @property
    def version_key(self) -> VersionKey:
        """The version as numbers, so 1.10 sorts after 1.9 and 1.0 equals 1.0.0."""
        key = version_key(self.version)
        assert key is not None, "the Version pattern admits only dotted numbers"
        return key


def _duplicate_codes(sections: dict[str, list[Restriction]]) -> Iterator[Problem]:
    """Contraindication and caution codes are unique across both lists, so a rule can name one."""
    seen: dict[str, str] = {}
    for section, items in sections.items():
        for index, item in enumerate(items):
            if item.code in seen:
                yield (section, index, "code"), f"{item.code!r} is already used at {seen[item.code]}"
            else:
                seen[item.code] = f"{section}.{index}"


class Alternative(Node):
    """A treatment other than a cell therapy, to discuss in consultation."""

    code: Slug
    name: Text
    indications: Indications = Field(min_length=1)
    summary: Text
    better_when: list[Text] = Field(min_length=1)
    notes: list[SourcedText] = Field(default_factory=list)
    # The same in plain words, spoken to the patient ("you"), for the self-assessment and the consent.
    patient_name: Text | None = None
    patient_summary: Text
    patient_better_when: list[Text] = Field(min_length=1)


class StepRisk(Sourced):
    """A screening answer that matters for every therapy with this step."""

    screening: _code(ScreeningCode)
    why: Text
    patient: Text


class Step(Node):
    """One step of a procedure, with what it asks of the patient and what it risks."""

    code: _code(StepCode)
    name: Text
    staff: Text
    anaesthetic: bool
    screening: list[StepRisk] = Field(default_factory=list)
    recovery: list[PatientLine] = Field(default_factory=list)
    risks: list[PatientLine] = Field(default_factory=list)


class StepsFile(Node):
    steps: list[Step] = Field(min_length=1)
    sources: dict[SourceTag, Text] = Field(default_factory=dict)

    def problems(self) -> Iterator[Problem]:
        codes = [step.code for step in self.steps]
        for code in StepCode:
            if codes.count(code) != 1:
                yield ("steps",), f"define step {code.value!r} exactly once"
        yield from _missing_sources(self, self.sources)


def alternative_plain_name(alternative: "Alternative") -> str:
    """The name of an alternative a patient reads."""
    return alternative.patient_name or alternative.name


class AlternativesFile(Node):
    alternatives: list[Alternative] = Field(min_length=1)
    sources: dict[SourceTag, Text] = Field(default_factory=dict)

    def problems(self) -> Iterator[Problem]:
        seen: dict[str, int] = {}
        for index, alternative in enumerate(self.alternatives):
            if alternative.code in seen:
                yield (
                    ("alternatives", index, "code"),
                    f"{alternative.code!r} is already used at alternatives.{seen[alternative.code]}",
                )
            else:
                seen[alternative.code] = index
        yield from _missing_sources(self, self.sources)
