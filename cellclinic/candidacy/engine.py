"""The candidacy rules engine: answers in, an explained result out. Plain functions, no Django imports.

The general rules are data (rules.toml); the therapy facts they use (indications, minimum ages,
months of stable vitiligo, areas, contraindications, cautions, evidence) come from the catalogue.
Every rule that fires is named in the result, with words a patient can read; the outcome is the
worst effect that fired, so an added contraindication can never make the answer better.
"""

import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cellclinic.catalogue.schema import AREA_LABELS, Evidence, Restriction, Therapy
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, HISTORY_CODES, INDICATIONS

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"

SUITABLE, CONSULT, NOT_SUITABLE = "suitable", "consult", "not_suitable"
OUTCOMES = (SUITABLE, CONSULT, NOT_SUITABLE)
NOTE = "note"
EFFECTS = (NOTE, CONSULT, NOT_SUITABLE)
# The order of outcomes, best first; a note leaves the outcome as it is.
SEVERITY = {NOTE: 0, SUITABLE: 0, CONSULT: 1, NOT_SUITABLE: 2}

CONCERNS = tuple(INDICATIONS)
AREAS = tuple(AREA_LABELS)
EXPECTATIONS: dict[str, str] = {
    "gradual_improvement": "A gradual improvement over months",
    "complete_removal": "The problem gone completely",
    "instant_result": "A result straight away",
}
FITNESS_KEY = "generally_fit_and_healthy"
HEALTH_KEYS = (
    FITNESS_KEY,
    "pregnant_or_breastfeeding",
    "active_skin_infection",
    "immunosuppressed",
    "bleeding_disorder_or_anticoagulants",
    "keloid_history",
    "skin_cancer_at_site",
    "collagen_disorder",
    "anaesthetic_allergy",
    "product_component_allergy",
    "cold_sores",
)
COMPONENT_ALLERGY_KEY = "product_component_allergy"
# Bounds of the numbers a questionnaire takes.
MAX_AGE = 130
MAX_MONTHS = 1200
CONDITION_KINDS = ("months", "yes_no")
ALLOGENEIC = "allogeneic"

RULE_KINDS = {
    "health_yes": ("health",),
    "health_no": ("health",),
    "health_unanswered": (),
    "expectation": ("expectation",),
    "min_age": (),
    "area": (),
    "vitiligo_unstable": (),
    "vitiligo_stability_unknown": (),
    "wound_closed": (),
    "scar_wound_open": (),
    "scar_recent_injury": ("months",),
    "contraindication": (),
    "caution": (),
    "component_allergy": (),
    "no_therapy": (),
}


EXPECTATION_TEXTS = (
    "introduction",
    "investigational",
    "harvest",
    "donor",
    "culture",
    "point_of_care",
    "manufactured",
    "delivery",
    "sessions_one",
    "sessions",
    "sessions_interval",
    "recovery",
    "results",
    "follow_up",
    "risks",
    "risks_intro",
    "evidence_intro",
)


class RuleSetError(ValueError):
    """The rules file is unusable; the message names the rule and the problem."""


@dataclass(frozen=True)
class Condition:
    """Details of the condition that some rules need; None means not given."""

    vitiligo_stable_months: int | None = None
    wound_open: bool | None = None
    months_since_injury: int | None = None


CONDITION_KEYS = tuple(f.name for f in fields(Condition))


@dataclass(frozen=True)
class Answers:
    """What the rules read. health maps each key of HEALTH_KEYS to True, False or None (not answered).

    allergies is the detailed set of allergy codes a practitioner knows from the chart; None when only
    the coarse public answer is known.
    """

    concerns: tuple[str, ...]
    area: str
    age: int
    health: Mapping[str, bool | None] = field(default_factory=dict)
    condition: Condition = field(default_factory=Condition)
    expectation: str = "gradual_improvement"
    allergies: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    effect: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """A health question: in the patient's words, as the practitioner reads it, and why it is asked."""

    key: str
    question: str
    why: str
    topic: str
    screening: str | None = None
    staff: str = ""


@dataclass(frozen=True)
class ConditionQuestion:
    """A detail of the condition: a number of months or a yes/no, which may be left unanswered."""

    key: str
    kind: str  # one of CONDITION_KINDS
    question: str
    staff: str
    why: str = ""


@dataclass(frozen=True)
class RuleSet:
    version: str
    digest: str
    rules: tuple[Rule, ...]
    questions: tuple[Question, ...]
    conditions: tuple[ConditionQuestion, ...]
    component_allergy_codes: frozenset[str]
    face_only_screening: frozenset[str]
    alternative_hints: tuple[Mapping[str, str], ...]
    texts: Mapping[str, Any]

    def of_kind(self, kind: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.kind == kind]

    @property
    def screening_of(self) -> dict[str, str]:
        """Health key -> checklist code for the questions that raise one."""
        return {q.key: q.screening for q in self.questions if q.screening}


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    effect: str


@dataclass(frozen=True)
class TherapyFit:
    code: str
    name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AlternativeFit:
    code: str
    name: str
    why: str


@dataclass(frozen=True)
class Result:
    outcome: str
    therapies: tuple[TherapyFit, ...]
    alternatives: tuple[AlternativeFit, ...]
    reasons: tuple[Reason, ...]
    expectations: Mapping[str, Any]
    ruleset: str

    def as_dict(self) -> dict[str, Any]:
        """The result as stored and as the API answers it."""
        return {
            "outcome": self.outcome,
            "therapies": [
                {"code": t.code, "name": t.name, "reasons": list(t.reasons)} for t in self.therapies
            ],
            "alternatives": [{"code": a.code, "name": a.name, "why": a.why} for a in self.alternatives],
            "reasons": [{"rule": r.rule, "text": r.text, "effect": r.effect} for r in self.reasons],
            "expectations": dict(self.expectations),
            "ruleset": self.ruleset,
        }


# ---------------------------------------------------------------------------------------------------
# Reading the rules file.


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RuleSetError(f"rules: {where}: {message}")


def ruleset_parse(text: str) -> RuleSet:
    """A rule set from the text of a rules file; RuleSetError names the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"rules: TOML syntax error: {exc}") from exc
    _require(isinstance(data.get("version"), str), "version", 'required (e.g. "2026.11")')
    questions = []
    for index, item in enumerate(data.get("questions", [])):
        where = f"questions.{index}"
        _require(item.get("key") in HEALTH_KEYS, where, f"key must be one of {', '.join(HEALTH_KEYS)}")
        screening = item.get("screening")
        _require(
            screening is None or screening in (*HISTORY_CODES, *ALLERGY_CODES),
            where,
            f"unknown screening code {screening!r}",
        )
        for name in ("question", "why", "topic", "staff"):
            _require(bool(item.get(name)), where, f"{name} is required")
        questions.append(
            Question(item["key"], item["question"], item["why"], item["topic"], screening, item["staff"])
        )
    _require(
        sorted(q.key for q in questions) == sorted(HEALTH_KEYS),
        "questions",
        "one question for every health key",
    )
    conditions = []
    for index, item in enumerate(data.get("conditions", [])):
        where = f"conditions.{index}"
        _require(item.get("key") in CONDITION_KEYS, where, f"key must be one of {', '.join(CONDITION_KEYS)}")
        _require(
            item.get("kind") in CONDITION_KINDS, where, f"kind must be one of {', '.join(CONDITION_KINDS)}"
        )
        for name in ("question", "staff"):
            _require(bool(item.get(name)), where, f"{name} is required")
        conditions.append(
            ConditionQuestion(item["key"], item["kind"], item["question"], item["staff"], item.get("why", ""))
        )
    _require(
        [c.key for c in conditions] == list(CONDITION_KEYS),
        "conditions",
        f"one entry for each condition detail, in order: {', '.join(CONDITION_KEYS)}",
    )
    rules = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("rules", [])):
        where = f"rules.{index}"
        rule_id, kind, effect = item.get("id"), item.get("kind"), item.get("effect")
        _require(isinstance(rule_id, str) and rule_id not in seen, where, "id is required and unique")
        seen.add(rule_id)
        _require(kind in RULE_KINDS, where, f"unknown kind {kind!r}")
        _require(effect in EFFECTS, where, f"effect must be one of {', '.join(EFFECTS)}")
        _require(bool(item.get("text")), where, "text is required")
        for name in RULE_KINDS[kind]:
            _require(name in item, where, f"{name} is required for kind {kind!r}")
        if "health" in item:
            _require(item["health"] in HEALTH_KEYS, where, f"unknown health key {item['health']!r}")
        if "expectation" in item:
            _require(
                item["expectation"] in EXPECTATIONS, where, f"unknown expectation {item['expectation']!r}"
            )
        extra = item.get("effect_when_only_concern")
        _require(extra is None or extra in EFFECTS, where, "effect_when_only_concern must be an effect")
        params = {k: v for k, v in item.items() if k not in {"id", "kind", "effect", "text"}}
        rules.append(Rule(rule_id, kind, effect, item["text"].strip(), params))
    for kind in RULE_KINDS:
        _require(any(rule.kind == kind for rule in rules), "rules", f"no rule of kind {kind!r}")
    texts = data.get("expectations", {})
    for name in EXPECTATION_TEXTS:
        _require(name in texts, "expectations", f"{name} is required")
    return RuleSet(
        version=data["version"],
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        rules=tuple(rules),
        questions=tuple(questions),
        conditions=tuple(conditions),
        component_allergy_codes=frozenset(data.get("component_allergy_codes", [])),
        face_only_screening=frozenset(data.get("face_only_screening", [])),
        alternative_hints=tuple(data.get("alternative_hints", [])),
        texts=texts,
    )


def ruleset_load(path: Path = RULES_FILE) -> RuleSet:
    return ruleset_parse(path.read_text(encoding="utf-8"))


def ruleset_version(rules: RuleSet, catalogue) -> str:
    """The rule set's version plus a short hash of the rules and every therapy and alternative version."""
    parts = [rules.digest]
    parts += [f"{code}={therapy.version}" for code, therapy in sorted(catalogue.therapies.items())]
    parts += [
        f"alt:{code}={alternative.model_dump_json()}"
        for code, alternative in sorted(catalogue.alternatives.items())
    ]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:10]
    return f"{rules.version}-{digest}"


# ---------------------------------------------------------------------------------------------------
# Evaluating.


class _Fired:
    """The reasons collected so far, each (rule, text) once."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], Reason] = {}

    def add(self, rule: Rule, effect: str | None = None, *, ref: str = "", **values: Any) -> None:
        """Fire RULE; REF names the catalogue entry it was applied to (therapy, or therapy.restriction)."""
        text = rule.text.format_map(_Blank(values))
        rule_id = f"{rule.id}:{ref}" if ref else rule.id
        key = (rule_id, text)
        new = Reason(rule_id, text, effect or rule.effect)
        old = self.reasons.get(key)
        if old is None or SEVERITY[new.effect] > SEVERITY[old.effect]:
            self.reasons[key] = new

    def sorted(self) -> tuple[Reason, ...]:
        return tuple(sorted(self.reasons.values(), key=lambda r: (-SEVERITY[r.effect], r.rule, r.text)))


class _Blank(dict):
    """Format values; a placeholder the rule does not get stays visible rather than failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _join(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _applies(restriction: Restriction, concern: str) -> bool:
    return not restriction.indications or concern in {code.value for code in restriction.indications}


def _yes_codes(answers: Answers, rules: RuleSet) -> set[str]:
    """The checklist codes raised by the answers (detailed allergies included when known)."""
    codes = {code for key, code in rules.screening_of.items() if answers.health.get(key) is True}
    if answers.allergies is not None:
        codes |= set(answers.allergies)
    if answers.area != "face":
        codes -= rules.face_only_screening
    return codes


def _general_rules(answers: Answers, rules: RuleSet, fired: _Fired) -> None:
    for rule in rules.of_kind("health_yes"):
        if answers.health.get(rule.params["health"]) is True:
            fired.add(rule)
    for rule in rules.of_kind("health_no"):
        if answers.health.get(rule.params["health"]) is False:
            fired.add(rule)
    unanswered = [q.topic for q in rules.questions if answers.health.get(q.key) is None]
    if unanswered:
        for rule in rules.of_kind("health_unanswered"):
            fired.add(rule, questions=_join(unanswered))
    for rule in rules.of_kind("expectation"):
        if answers.expectation == rule.params["expectation"]:
            fired.add(rule)
    condition = answers.condition
    if "scar" in answers.concerns:
        if condition.wound_open is True:
            for rule in rules.of_kind("scar_wound_open"):
                fired.add(rule)
        if condition.months_since_injury is not None:
            for rule in rules.of_kind("scar_recent_injury"):
                if condition.months_since_injury < rule.params["months"]:
                    fired.add(rule, months=rule.params["months"])


def _indication_failures(
    therapy: Therapy, indication, answers: Answers, rules: RuleSet, fired: _Fired
) -> bool:
    """Fire every rule that keeps THERAPY from INDICATION; True when none did."""
    concern = indication.code.value
    label = _lower_first(INDICATIONS[concern])
    ok = True
    if not indication.treats_area(answers.area):
        areas = _join(AREA_LABELS[a.value].lower() for a in indication.areas)
        for rule in rules.of_kind("area"):
            fired.add(rule, ref=therapy.code, therapy=therapy.name, areas=areas, indication=label)
        ok = False
    if indication.min_age_years is not None and answers.age < indication.min_age_years.value:
        for rule in rules.of_kind("min_age"):
            fired.add(rule, therapy=therapy.name, min_age=indication.min_age_years.value, indication=label)
        ok = False
    if indication.stable_for_months is not None:
        months = answers.condition.vitiligo_stable_months
        needed = indication.stable_for_months.value
        if months is None:
            for rule in rules.of_kind("vitiligo_stability_unknown"):
                fired.add(rule)
        elif months < needed:
            only = set(answers.concerns) == {concern}
            for rule in rules.of_kind("vitiligo_unstable"):
                effect = rule.params.get("effect_when_only_concern") if only else None
                fired.add(
                    rule, effect, ref=therapy.code, therapy=therapy.name, months=needed, answered=months
                )
            ok = False
    if (
        concern == "wound"
        and therapy.cell_source.value == ALLOGENEIC
        and answers.condition.wound_open is False
    ):
        for rule in rules.of_kind("wound_closed"):
            fired.add(rule, ref=therapy.code, therapy=therapy.name)
        ok = False
    return ok


def _restriction_rules(
    therapy: Therapy, concern: str, answers: Answers, rules: RuleSet, yes: set[str], fired: _Fired
) -> bool:
    """Fire contraindications, cautions and unspecified allergies; True when not contraindicated."""
    coarse_allergy = answers.allergies is None and answers.health.get(COMPONENT_ALLERGY_KEY) is True
    allowed = True
    for kind, restrictions in (
        ("contraindication", therapy.contraindications),
        ("caution", therapy.cautions),
    ):
        for restriction in restrictions:
            if not _applies(restriction, concern) or restriction.screening is None:
                continue
            code = restriction.screening.value
            if code in yes:
                fired_kind = kind
                allowed = allowed and kind != "contraindication"
            elif coarse_allergy and code in rules.component_allergy_codes:
                fired_kind = "component_allergy"
            else:
                continue
            for rule in rules.of_kind(fired_kind):
                fired.add(
                    rule,
                    ref=f"{therapy.code}.{restriction.code}",
                    therapy=therapy.name,
                    restriction=_lower_first(restriction.text),
                )
    return allowed


def _alternatives(answers: Answers, catalogue, rules: RuleSet, fired: _Fired) -> tuple[AlternativeFit, ...]:
    unstable_ids = {rule.id for rule in rules.of_kind("vitiligo_unstable")}
    unstable = any(reason.rule.split(":")[0] in unstable_ids for reason in fired.reasons.values())
    found = []
    for alternative in catalogue.alternatives_for(answers.concerns):
        hints = []
        for hint in rules.alternative_hints:
            if hint.get("alternative") != alternative.code:
                continue
            if "expectation" in hint and hint["expectation"] != answers.expectation:
                continue
            if "concern" in hint and hint["concern"] not in answers.concerns:
                continue
            if hint.get("condition") == "vitiligo_not_stable" and not unstable:
                continue
            hints.append(hint["why"])
        why = " ".join([*hints, *(f"{item}." for item in alternative.better_when)])
        found.append(AlternativeFit(alternative.code, alternative.name, why))
    return tuple(sorted(found, key=lambda a: a.code))


def evaluate(answers: Answers, catalogue, rules: RuleSet) -> Result:
    """The explained result for ANSWERS against the catalogue's therapies and the general RULES."""
    fired = _Fired()
    concerns = sorted(set(answers.concerns), key=CONCERNS.index)
    yes = _yes_codes(answers, rules)
    _general_rules(answers, rules, fired)

    fits: list[TherapyFit] = []
    fitting: list[tuple[Therapy, list[str]]] = []
    for code in sorted(catalogue.therapies):
        therapy = catalogue.therapies[code]
        why: list[str] = []
        served: list[str] = []
        for concern in concerns:
            indications = [i for i in therapy.indications if i.code.value == concern]
            if not indications:
                continue
            passing = [i for i in indications if _indication_failures(therapy, i, answers, rules, fired)]
            if not passing:
                continue
            if not _restriction_rules(therapy, concern, answers, rules, yes, fired):
                continue
            served.append(concern)
            why += [f"{INDICATIONS[concern]}: {i.condition}" for i in passing]
        if served:
            if therapy.investigational:
                why.append("Investigational: studied in trials, not approved for this use")
            fits.append(TherapyFit(therapy.code, therapy.name, tuple(dict.fromkeys(why))))
            fitting.append((therapy, served))
    if not fits:
        labels = _join(_lower_first(INDICATIONS[c]) for c in concerns)
        for rule in rules.of_kind("no_therapy"):
            fired.add(rule, concerns=labels)

    reasons = fired.sorted()
    outcome = max((r.effect for r in reasons), key=SEVERITY.__getitem__, default=SUITABLE)
    outcome = SUITABLE if outcome == NOTE else outcome
    return Result(
        outcome=outcome,
        therapies=tuple(fits),
        alternatives=_alternatives(answers, catalogue, rules, fired),
        reasons=reasons,
        expectations=expectations_for(fitting, rules),
        ruleset=ruleset_version(rules, catalogue),
    )


# ---------------------------------------------------------------------------------------------------
# The expectations sheet.


def _evidence_entry(evidence: Evidence, sources: Mapping[str, str]) -> dict[str, Any]:
    return {
        "kind": evidence.kind.value,
        "finding": evidence.finding,
        "measure": evidence.measure or "",
        "result": evidence.result,
        "timepoint": evidence.timepoint or "",
        "population": evidence.population or "",
        "sources": [{"tag": tag, "text": sources.get(tag, "")} for tag in evidence.source],
        "unverified": evidence.unverified,
    }


def _for_concerns(item, concerns: list[str]) -> bool:
    scoped = getattr(item, "indications", None) or []
    return not scoped or bool({code.value for code in scoped} & set(concerns))


def _treatment_lines(therapy: Therapy, texts: Mapping[str, Any]) -> list[str]:
    lines = []
    if therapy.harvest is not None:
        lines.append(
            texts["harvest"].format(
                what=_lower_first(therapy.harvest.what), where=_lower_first(therapy.harvest.where)
            )
        )
    else:
        lines.append(texts["donor"])
    processing = therapy.processing
    kind = processing.kind.value
    duration = processing.duration.text if processing.duration else ""
    if kind in {"culture", "point_of_care"} and duration:
        lines.append(texts[kind].format(duration=duration))
    elif kind == "manufactured":
        lines.append(texts["manufactured"])
    lines.append(texts["delivery"].format(description=_lower_first(therapy.delivery.description)))
    count = therapy.sessions.count
    if count.single == 1:
        lines.append(texts["sessions_one"])
    elif therapy.sessions.interval_days is not None:
        lines.append(
            texts["sessions_interval"].format(
                count=count.text, interval=therapy.sessions.interval_days.amount
            )
        )
    else:
        lines.append(texts["sessions"].format(count=count.text))
    return lines


def _result_lines(therapy: Therapy, concerns: list[str], texts: Mapping[str, Any]) -> list[str]:
    lines = [texts["results"]]
    visits = []
    for schedule in therapy.follow_up:
        if not _for_concerns(schedule, concerns):
            continue
        anchor = schedule.anchor.value.replace("_", " ")
        visits += [f"{visit.text} after the {anchor}" for visit in schedule.visits]
    if visits:
        lines.append(texts["follow_up"].format(visits=_join(list(dict.fromkeys(visits)))))
    for evidence in therapy.evidence:
        if evidence.kind.value == "efficacy" and evidence.timepoint and _for_concerns(evidence, concerns):
            lines.append(f"{evidence.timepoint}: {_lower_first(evidence.finding)}")
        elif evidence.kind.value == "limitation" and _for_concerns(evidence, concerns):
            lines.append(evidence.finding)
    return lines


def expectations_for(fitting: list[tuple[Therapy, list[str]]], rules: RuleSet) -> dict[str, Any]:
    """What to expect from each fitting therapy, in words a patient can read, with the published figures."""
    texts = rules.texts
    sheets = []
    for therapy, concerns in fitting:
        evidence = [
            _evidence_entry(item, therapy.sources)
            for item in therapy.evidence
            if item.kind.value == "efficacy" and _for_concerns(item, concerns)
        ]
        sheets.append(
            {
                "code": therapy.code,
                "name": therapy.name,
                "concerns": list(concerns),
                "investigational": therapy.investigational,
                "investigational_note": texts["investigational"] if therapy.investigational else "",
                "treatment": _treatment_lines(therapy, texts),
                "recovery": list(texts["recovery"]),
                "results": _result_lines(therapy, concerns, texts),
                "risks_intro": texts["risks_intro"],
                "risks": list(texts["risks"]),
                "evidence_intro": texts["evidence_intro"],
                "evidence": evidence,
            }
        )
    return {"introduction": texts["introduction"] if sheets else "", "therapies": sheets}
