"""The candidacy rules engine: answers in, an explained result out. Plain functions, no Django imports.

The general rules are data (rules.toml); the therapy facts they use (indications with their ages,
areas and label conditions, contraindications, cautions, procedure steps, evidence) come from the
catalogue. Every rule that fires is named in the result, with words a patient can read.

"Suitable" is earned: it needs at least one therapy for which every fact the decision rests on is
answered, inside a sourced limit, and raises nothing a practitioner must look at; every screening
"yes" sends the person to a practitioner unless a therapy file exempts it with a source. A therapy
that is excluded never disappears silently: the result names it and says why.
"""

import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cellclinic.catalogue.schema import AREA_LABELS, Indication, Restriction, Therapy, alternative_plain_name
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, CONDITION_FACTS, HISTORY_CODES, INDICATIONS

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"

SUITABLE, CONSULT, NOT_SUITABLE = "suitable", "consult", "not_suitable"
OUTCOMES = (SUITABLE, CONSULT, NOT_SUITABLE)
NOTE, EXCLUDES = "note", "excludes"
# Effects of a rule about the person, and of a rule about one therapy.
PERSON_EFFECTS = (NOTE, CONSULT, NOT_SUITABLE)
THERAPY_EFFECTS = (EXCLUDES, CONSULT)
EFFECTS = (NOTE, EXCLUDES, CONSULT, NOT_SUITABLE)
# The order of outcomes, best first; a note leaves the outcome as it is.
SEVERITY = {NOTE: 0, SUITABLE: 0, EXCLUDES: 0, CONSULT: 1, NOT_SUITABLE: 2}

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
CONDITION_KEYS = tuple(CONDITION_FACTS)
# Bounds of the numbers a questionnaire takes: ages a person can have, months and weeks a lifetime can.
MAX_AGE = 120
MAX_MONTHS = 1200
MAX_WEEKS = 5300
CONDITION_KINDS = ("months", "weeks", "yes_no")
ALLOGENEIC = "allogeneic"

# Each kind of rule: the parameters it needs, and whether it is about the person or one therapy.
PERSON_KINDS = {
    "health_yes": ("health",),
    "health_no": ("health",),
    "health_unanswered": (),
    "condition_unanswered": (),
    "minor": ("below_age",),
    "expectation": ("expectation",),
    "condition": ("when",),
    "concern_not_served": (),
    "no_therapy": (),
}
THERAPY_KINDS = {
    "area": (),
    "min_age": (),
    "max_age": (),
    "age_unknown": (),
    "vitiligo_unstable": (),
    "vitiligo_stability_unknown": (),
    "requirement_failed": (),
    "requirement_unknown": (),
    "unverified": (),
    "contraindication": (),
    "caution": (),
    "step_risk": (),
    "screening_yes": (),
    "component_allergy": (),
    "investigational": (),
}
RULE_KINDS = {**PERSON_KINDS, **THERAPY_KINDS}
TESTS = ("equals", "below", "at_least")

EXPECTATION_TEXTS = (
    "introduction",
    "investigational",
    "donor",
    "culture",
    "point_of_care",
    "manufactured",
    "sessions_one",
    "sessions",
    "sessions_interval",
    "results",
    "follow_up",
    "anaesthetic_risk",
    "risks",
    "risks_intro",
    "benefits_intro",
)


class RuleSetError(ValueError):
    """The rules file is unusable; the message names the rule and the problem."""


@dataclass(frozen=True)
class Answers:
    """What the rules read. health maps each key of HEALTH_KEYS to True, False or None (not answered);
    condition maps each key of CONDITION_KEYS to a number, True, False or None (not answered).

    allergies is the detailed set of allergy codes a practitioner knows from the chart; None when only
    the coarse public answer is known.
    """

    concerns: tuple[str, ...]
    area: str
    age: int
    health: Mapping[str, bool | None] = field(default_factory=dict)
    condition: Mapping[str, int | bool | None] = field(default_factory=dict)
    expectation: str = "gradual_improvement"
    allergies: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    effect: str
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)
    staff: str = ""
    urgent: bool = False

    def applies_to(self, concerns: Iterable[str]) -> bool:
        """Whether the rule's concern limits (if_any_concern, unless_any_concern) admit CONCERNS."""
        chosen = set(concerns)
        if "if_any_concern" in self.params and not chosen & set(self.params["if_any_concern"]):
            return False
        return not chosen & set(self.params.get("unless_any_concern", ()))


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
    """A detail of the condition: a number of months or weeks, or a yes/no; may be left unanswered."""

    key: str
    kind: str  # one of CONDITION_KINDS
    question: str
    staff: str
    why: str = ""
    concerns: tuple[str, ...] = ()

    @property
    def maximum(self) -> int:
        return MAX_WEEKS if self.kind == "weeks" else MAX_MONTHS


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

    def rule(self, reason_rule: str) -> Rule | None:
        """The rule a reason's id names ("caution:therapy.code" -> the rule "caution")."""
        rule_id = reason_rule.split(":", 1)[0]
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def conditions_for(self, concerns: Iterable[str]) -> list[ConditionQuestion]:
        chosen = set(concerns)
        return [c for c in self.conditions if chosen & set(c.concerns)]


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    effect: str
    urgent: bool = False


@dataclass(frozen=True)
class TherapyFit:
    code: str
    name: str
    reasons: tuple[str, ...]
    # "suitable" when nothing is left to check for this therapy, else "consult".
    status: str = SUITABLE
    concerns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    """A therapy for one of the chosen concerns that is not an option, and why."""

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
    excluded: tuple[Exclusion, ...] = ()

    @property
    def urgent(self) -> tuple[str, ...]:
        return tuple(reason.text for reason in self.reasons if reason.urgent)

    def as_dict(self) -> dict[str, Any]:
        """The result as stored and as the API answers it."""
        return {
            "outcome": self.outcome,
            "urgent": list(self.urgent),
            "therapies": [
                {
                    "code": t.code,
                    "name": t.name,
                    "status": t.status,
                    "concerns": list(t.concerns),
                    "reasons": list(t.reasons),
                }
                for t in self.therapies
            ],
            "excluded": [{"code": e.code, "name": e.name, "reasons": list(e.reasons)} for e in self.excluded],
            "alternatives": [{"code": a.code, "name": a.name, "why": a.why} for a in self.alternatives],
            "reasons": [
                {"rule": r.rule, "text": r.text, "effect": r.effect, "urgent": r.urgent} for r in self.reasons
            ],
            "expectations": dict(self.expectations),
            "ruleset": self.ruleset,
        }


# ---------------------------------------------------------------------------------------------------
# Reading the rules file.


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise RuleSetError(f"rules: {where}: {message}")


def _parse_questions(data: dict) -> list[Question]:
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
    return questions


def _parse_conditions(data: dict) -> list[ConditionQuestion]:
    conditions = []
    for index, item in enumerate(data.get("conditions", [])):
        where = f"conditions.{index}"
        key = item.get("key")
        _require(key in CONDITION_KEYS, where, f"key must be one of {', '.join(CONDITION_KEYS)}")
        _require(
            item.get("kind") == CONDITION_FACTS[key],
            where,
            f"kind of {key!r} is {CONDITION_FACTS[key]!r} (cellclinic/catalogue/vocabulary.py)",
        )
        concerns = item.get("concerns")
        _require(
            isinstance(concerns, list) and bool(concerns) and set(concerns) <= set(CONCERNS),
            where,
            f"concerns must list the concerns it is asked for, from {', '.join(CONCERNS)}",
        )
        for name in ("question", "staff"):
            _require(bool(item.get(name)), where, f"{name} is required")
        conditions.append(
            ConditionQuestion(
                key, item["kind"], item["question"], item["staff"], item.get("why", ""), tuple(concerns)
            )
        )
    _require(
        sorted(c.key for c in conditions) == sorted(CONDITION_KEYS),
        "conditions",
        f"one entry for each condition detail: {', '.join(CONDITION_KEYS)}",
    )
    return conditions


def _check_when(tests: Any, where: str) -> None:
    _require(isinstance(tests, list) and bool(tests), where, "when must be a list of tests")
    for test in tests:
        _require(
            isinstance(test, dict) and test.get("fact") in CONDITION_KEYS,
            where,
            f"each test names a fact from {', '.join(CONDITION_KEYS)}",
        )
        given = [name for name in TESTS if name in test]
        _require(len(given) == 1, where, f"each test gives exactly one of {', '.join(TESTS)}")
        numeric = CONDITION_FACTS[test["fact"]] != "yes_no"
        _require(
            (given[0] != "equals") == numeric,
            where,
            f"{test['fact']!r} is {'a number: use below or at_least' if numeric else 'yes/no: use equals'}",
        )


def _parse_rules(data: dict) -> list[Rule]:
    rules = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("rules", [])):
        where = f"rules.{index}"
        rule_id, kind, effect = item.get("id"), item.get("kind"), item.get("effect")
        _require(isinstance(rule_id, str) and rule_id not in seen, where, "id is required and unique")
        seen.add(rule_id)
        _require(kind in RULE_KINDS, where, f"unknown kind {kind!r}")
        allowed = THERAPY_EFFECTS if kind in THERAPY_KINDS else PERSON_EFFECTS
        _require(effect in allowed, where, f"effect of a {kind!r} rule must be one of {', '.join(allowed)}")
        _require(bool(item.get("text")), where, "text is required")
        for name in RULE_KINDS[kind]:
            _require(name in item, where, f"{name} is required for kind {kind!r}")
        if "health" in item:
            _require(item["health"] in HEALTH_KEYS, where, f"unknown health key {item['health']!r}")
        if "expectation" in item:
            _require(
                item["expectation"] in EXPECTATIONS, where, f"unknown expectation {item['expectation']!r}"
            )
        if "when" in item:
            _check_when(item["when"], where)
        for name in ("if_any_concern", "unless_any_concern"):
            if name in item:
                _require(
                    isinstance(item[name], list) and set(item[name]) <= set(CONCERNS),
                    where,
                    f"{name} must list concerns from {', '.join(CONCERNS)}",
                )
        _require(
            not item.get("unverified") or effect != NOTE,
            where,
            "a rule resting on an unverified limit sends the person to a practitioner: effect consult",
        )
        params = {
            k: v for k, v in item.items() if k not in {"id", "kind", "effect", "text", "staff", "urgent"}
        }
        rules.append(
            Rule(
                rule_id,
                kind,
                effect,
                " ".join(item["text"].split()),
                params,
                item.get("staff", ""),
                bool(item.get("urgent", False)),
            )
        )
    for kind in RULE_KINDS:
        _require(any(rule.kind == kind for rule in rules), "rules", f"no rule of kind {kind!r}")
    return rules


def ruleset_parse(text: str) -> RuleSet:
    """A rule set from the text of a rules file; RuleSetError names the first problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"rules: TOML syntax error: {exc}") from exc
    _require(isinstance(data.get("version"), str), "version", 'required (e.g. "2026.12")')
    questions = _parse_questions(data)
    conditions = _parse_conditions(data)
    rules = _parse_rules(data)
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


# The last (rules, catalogue) pair and its version: both are read once and never change, so each
# evaluation need not hash every alternative and step again.
_version_of: list[tuple[RuleSet, object, str]] = []


def ruleset_version(rules: RuleSet, catalogue) -> str:
    """The rule set's version plus a short hash of the rules, every therapy, alternative and step."""
    if _version_of and _version_of[0][0] is rules and _version_of[0][1] is catalogue:
        return _version_of[0][2]
    version = _ruleset_version(rules, catalogue)
    _version_of[:] = [(rules, catalogue, version)]
    return version


def _ruleset_version(rules: RuleSet, catalogue) -> str:
    parts = [rules.digest]
    parts += [f"{code}={therapy.version}" for code, therapy in sorted(catalogue.therapies.items())]
    parts += [
        f"alt:{code}={alternative.model_dump_json()}"
        for code, alternative in sorted(catalogue.alternatives.items())
    ]
    parts += [f"step:{code}={step.model_dump_json()}" for code, step in sorted(catalogue.steps.items())]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:10]
    return f"{rules.version}-{digest}"


# ---------------------------------------------------------------------------------------------------
# Evaluating.


class _Fired:
    """The reasons collected so far, each (rule, text) once."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], Reason] = {}

    def add(self, rule: Rule, *, ref: str = "", **values: Any) -> Reason:
        """Fire RULE; REF names the catalogue entry it was applied to (therapy, or therapy.restriction)."""
        text = rule.text.format_map(_Blank(values))
        rule_id = f"{rule.id}:{ref}" if ref else rule.id
        reason = Reason(rule_id, text, rule.effect, rule.urgent)
        self.reasons.setdefault((rule_id, text), reason)
        return reason

    def sorted(self) -> tuple[Reason, ...]:
        order = {NOT_SUITABLE: 0, CONSULT: 1, NOTE: 2, EXCLUDES: 3}
        return tuple(
            sorted(self.reasons.values(), key=lambda r: (not r.urgent, order[r.effect], r.rule, r.text))
        )


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


def _test(test: Mapping[str, Any], value: Any) -> bool:
    """One test of a condition rule; an unknown value never passes a test."""
    if value is None:
        return False
    if "equals" in test:
        return value is test["equals"]
    if "below" in test:
        return value < test["below"]
    return value >= test["at_least"]


def _yes_codes(answers: Answers, rules: RuleSet) -> dict[str, str]:
    """Checklist code -> topic, for every "yes" (detailed allergies included when known)."""
    yes = {
        question.screening: question.topic
        for question in rules.questions
        if question.screening and answers.health.get(question.key) is True
    }
    for code in sorted(answers.allergies or ()):
        yes.setdefault(code, f"an allergy ({code.replace('_', ' ')})")
    return yes


def _person_rules(answers: Answers, rules: RuleSet, fired: _Fired) -> set[str]:
    """Fire the rules about the person; the health keys whose "yes" a rule of its own answered."""
    concerns = answers.concerns
    answered_by_rule: set[str] = set()
    for rule in rules.of_kind("health_yes"):
        if answers.health.get(rule.params["health"]) is True and rule.applies_to(concerns):
            fired.add(rule)
            answered_by_rule.add(rule.params["health"])
    for rule in rules.of_kind("health_no"):
        if answers.health.get(rule.params["health"]) is False and rule.applies_to(concerns):
            fired.add(rule)
    unanswered = [q.topic for q in rules.questions if answers.health.get(q.key) is None]
    if unanswered:
        for rule in rules.of_kind("health_unanswered"):
            fired.add(rule, questions=_join(unanswered))
    missing = [c.question for c in rules.conditions_for(concerns) if answers.condition.get(c.key) is None]
    if missing:
        for rule in rules.of_kind("condition_unanswered"):
            fired.add(rule, questions=" ".join(missing))
    for rule in rules.of_kind("minor"):
        if answers.age < rule.params["below_age"]:
            fired.add(rule)
    for rule in rules.of_kind("expectation"):
        if answers.expectation == rule.params["expectation"]:
            fired.add(rule)
    for rule in rules.of_kind("condition"):
        if rule.applies_to(concerns) and all(
            _test(test, answers.condition.get(test["fact"])) for test in rule.params["when"]
        ):
            fired.add(rule)
    return answered_by_rule


@dataclass
class _Verdict:
    """What one therapy is for one concern: an option or not, with the reasons."""

    excluded: bool = False
    reasons: list[Reason] = field(default_factory=list)

    @property
    def status(self) -> str:
        return CONSULT if any(r.effect == CONSULT for r in self.reasons) else SUITABLE


def _indication_verdict(
    therapy: Therapy, indication: Indication, answers: Answers, rules: RuleSet, fired: _Fired
) -> _Verdict:
    """Ages, vitiligo stability, label conditions and unverified limits of one indication."""
    verdict = _Verdict()
    label = _lower_first(INDICATIONS[indication.code.value])
    ref = therapy.code

    def fire(kind: str, **values: Any) -> None:
        for rule in rules.of_kind(kind):
            reason = fired.add(rule, ref=ref, therapy=therapy.plain_name, indication=label, **values)
            verdict.reasons.append(reason)
            verdict.excluded = verdict.excluded or reason.effect == EXCLUDES

    used = [indication]
    age = answers.age
    if indication.min_age_years is not None:
        used.append(indication.min_age_years)
        if age < indication.min_age_years.value:
            fire("min_age", min_age=indication.min_age_years.value)
    if indication.min_age_months is not None:
        used.append(indication.min_age_months)
        months = indication.min_age_months.value
        if age * 12 + 11 < months:
            fire("min_age", min_age=f"{months} months")
        elif age * 12 < months:
            fire("age_unknown", min_age=months)
    if indication.max_age_years is not None:
        used.append(indication.max_age_years)
        if age > indication.max_age_years.value:
            fire("max_age", max_age=indication.max_age_years.value)
    if indication.stable_for_months is not None:
        used.append(indication.stable_for_months)
        months = answers.condition.get("vitiligo_stable_months")
        needed = indication.stable_for_months.value
        if months is None:
            fire("vitiligo_stability_unknown", months=needed)
        elif months < needed:
            fire("vitiligo_unstable", months=needed, answered=months)
    for requirement in indication.requires:
        used.append(requirement)
        met = requirement.met(answers.condition.get(requirement.fact.value))
        if met is False:
            fire("requirement_failed", requirement=_lower_first(requirement.text.rstrip(".")))
        elif met is None:
            fire("requirement_unknown", requirement=_lower_first(requirement.text.rstrip(".")))
    if any(fact.unverified for fact in used):
        fire("unverified")
    return verdict


def _screening_verdict(
    therapy: Therapy,
    concern: str,
    answers: Answers,
    rules: RuleSet,
    yes: Mapping[str, str],
    answered_by_rule: set[str],
    catalogue,
    fired: _Fired,
) -> _Verdict:
    """Every "yes": a contraindication excludes; a caution, a procedure step's risk or a yes without
    a rule sends to a practitioner; only a sourced exemption in the therapy file leaves it out."""
    verdict = _Verdict()
    exempt = {exemption.screening.value for exemption in therapy.exemptions}

    def fire(kind: str, ref: str, **values: Any) -> None:
        for rule in rules.of_kind(kind):
            reason = fired.add(rule, ref=ref, therapy=therapy.plain_name, **values)
            verdict.reasons.append(reason)
            verdict.excluded = verdict.excluded or reason.effect == EXCLUDES

    restrictions = [
        ("contraindication", r) for r in therapy.contraindications if _applies(r, concern) and not r.handling
    ] + [("caution", r) for r in therapy.cautions if _applies(r, concern) and not r.handling]
    steps = [catalogue.steps[step.value] for step in therapy.steps if step.value in catalogue.steps]
    by_rule = {rules.screening_of[key] for key in answered_by_rule if key in rules.screening_of}
    for code, topic in yes.items():
        matched = False
        for kind, restriction in restrictions:
            if restriction.screening is not None and restriction.screening.value == code:
                fire(kind, f"{therapy.code}.{restriction.code}", restriction=_lower_first(restriction.plain))
                matched = True
        for step in steps:
            if code in rules.face_only_screening and answers.area != "face":
                continue
            for risk in step.screening:
                if risk.screening.value == code:
                    fire(
                        "step_risk",
                        f"{therapy.code}.{step.code.value}.{code}",
                        step=_lower_first(step.name),
                        restriction=risk.patient,
                    )
                    matched = True
        if not matched and code not in exempt:
            if code in by_rule:
                # The person-level rule for this answer already sends them to a practitioner.
                text = f"A practitioner looks at your answer about {topic} first."
                verdict.reasons.append(Reason(f"screening_answer:{code}", text, CONSULT))
            else:
                fire("screening_yes", code, topic=topic)
    coarse_allergy = answers.allergies is None and answers.health.get(COMPONENT_ALLERGY_KEY) is True
    if coarse_allergy and not rules.component_allergy_codes <= exempt:
        named = [
            r
            for _, r in restrictions
            if r.screening is not None and r.screening.value in rules.component_allergy_codes
        ]
        for restriction in named:
            fire(
                "component_allergy",
                f"{therapy.code}.{restriction.code}",
                restriction=_lower_first(restriction.plain),
            )
        if not named:
            question = next(q for q in rules.questions if q.key == COMPONENT_ALLERGY_KEY)
            fire("screening_yes", COMPONENT_ALLERGY_KEY, topic=question.topic)
    return verdict


def _concern_verdict(
    therapy: Therapy,
    concern: str,
    answers: Answers,
    rules: RuleSet,
    fired: _Fired,
) -> _Verdict | None:
    """THERAPY for CONCERN: None when it has no indication for it; else the best indication's verdict."""
    indications = [i for i in therapy.indications if i.code.value == concern]
    if not indications:
        return None
    label = _lower_first(INDICATIONS[concern])
    in_area = [i for i in indications if i.treats_area(answers.area)]
    if not in_area:
        areas = dict.fromkeys(AREA_LABELS[a.value].lower() for i in indications for a in i.areas)
        verdict = _Verdict(excluded=True)
        for rule in rules.of_kind("area"):
            verdict.reasons.append(
                fired.add(
                    rule, ref=therapy.code, therapy=therapy.plain_name, areas=_join(areas), indication=label
                )
            )
        return verdict
    verdicts = [_indication_verdict(therapy, i, answers, rules, fired) for i in in_area]
    options = [v for v in verdicts if not v.excluded]
    if not options:
        merged = _Verdict(excluded=True)
        for verdict in verdicts:
            merged.reasons += [r for r in verdict.reasons if r not in merged.reasons]
        return merged
    return min(options, key=lambda v: (SEVERITY[v.status], len(v.reasons)))


def _ids(rules: RuleSet, kind: str) -> set[str]:
    return {rule.id for rule in rules.of_kind(kind)}


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
        why = " ".join([*hints, *(_sentence(item) for item in alternative.patient_better_when)])
        found.append(AlternativeFit(alternative.code, alternative_plain_name(alternative), why))
    return tuple(sorted(found, key=lambda a: a.code))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def evaluate(answers: Answers, catalogue, rules: RuleSet) -> Result:
    """The explained result for ANSWERS against the catalogue's therapies and the general RULES."""
    fired = _Fired()
    concerns = sorted(set(answers.concerns), key=CONCERNS.index)
    answers = Answers(
        concerns=tuple(concerns),
        area=answers.area,
        age=answers.age,
        health=answers.health,
        condition=answers.condition,
        expectation=answers.expectation,
        allergies=answers.allergies,
    )
    yes = _yes_codes(answers, rules)
    answered_by_rule = _person_rules(answers, rules, fired)

    fits: list[TherapyFit] = []
    excluded: list[Exclusion] = []
    fitting: list[tuple[Therapy, list[str]]] = []
    served_concerns: set[str] = set()
    # The therapy reasons a reader needs: all of an option's, and only the exclusions of the rest.
    kept: set[Reason] = set()
    for code in sorted(catalogue.therapies):
        therapy = catalogue.therapies[code]
        served: list[str] = []
        statuses: list[str] = []
        why: list[str] = []
        exclusion: list[str] = []
        for concern in concerns:
            verdict = _concern_verdict(therapy, concern, answers, rules, fired)
            if verdict is None:
                continue
            if not verdict.excluded:
                screening = _screening_verdict(
                    therapy, concern, answers, rules, yes, answered_by_rule, catalogue, fired
                )
                verdict = _Verdict(screening.excluded, verdict.reasons + screening.reasons)
            if verdict.excluded:
                reasons = [r for r in verdict.reasons if r.effect == EXCLUDES]
                kept.update(reasons)
                exclusion += [r.text for r in reasons]
                continue
            if therapy.investigational:
                label = _lower_first(INDICATIONS[concern])
                for rule in rules.of_kind("investigational"):
                    verdict.reasons.append(
                        fired.add(rule, ref=therapy.code, therapy=therapy.plain_name, indication=label)
                    )
            kept.update(verdict.reasons)
            served.append(concern)
            statuses.append(verdict.status)
            why += [f"{INDICATIONS[concern]}: {r.text}" for r in verdict.reasons if r.effect == CONSULT]
        if served:
            status = SUITABLE if SUITABLE in statuses else CONSULT
            fits.append(
                TherapyFit(therapy.code, therapy.plain_name, tuple(dict.fromkeys(why)), status, tuple(served))
            )
            fitting.append((therapy, served))
            served_concerns |= set(served)
        elif exclusion:
            excluded.append(Exclusion(therapy.code, therapy.plain_name, tuple(dict.fromkeys(exclusion))))

    person_reasons = [r for r in fired.reasons.values() if ":" not in r.rule]
    person = max((r.effect for r in person_reasons), key=SEVERITY.__getitem__, default=SUITABLE)
    person = SUITABLE if person == NOTE else person
    # Someone who needs care now, or who is under 18, is never turned away by the list of therapies
    # alone: they see a practitioner (the reasons say which therapies are not an option and why).
    kept_open = any(r.urgent for r in person_reasons) or any(
        r.rule in _ids(rules, "minor") for r in person_reasons
    )
    unserved = [c for c in concerns if c not in served_concerns]
    if unserved:
        kind = "concern_not_served" if fits or kept_open else "no_therapy"
        labels = _join(_lower_first(INDICATIONS[c]) for c in unserved)
        for rule in rules.of_kind(kind):
            reason = fired.add(rule, concerns=labels)
            person = max(
                person, SUITABLE if reason.effect == NOTE else reason.effect, key=SEVERITY.__getitem__
            )

    reasons = tuple(r for r in fired.sorted() if ":" not in r.rule or r in kept)
    best = SUITABLE if any(f.status == SUITABLE for f in fits) else CONSULT
    outcome = max(best, person, key=SEVERITY.__getitem__)
    if outcome == NOT_SUITABLE:
        # "Not suitable" lists no treatments that "may suit you": what was considered is in `excluded`.
        excluded += [Exclusion(f.code, f.name, ()) for f in fits]
        fits, fitting = [], []
    return Result(
        outcome=outcome,
        therapies=tuple(fits),
        alternatives=_alternatives(answers, catalogue, rules, fired),
        reasons=reasons,
        expectations=expectations_for(fitting, catalogue, rules),
        ruleset=ruleset_version(rules, catalogue),
        excluded=tuple(sorted(excluded, key=lambda e: e.code)),
    )


# ---------------------------------------------------------------------------------------------------
# The expectations sheet: only the catalogue's patient texts and the plain words of the rules file.


def _for_concerns(item, concerns: list[str]) -> bool:
    scoped = getattr(item, "indications", None) or []
    return not scoped or bool({code.value for code in scoped} & set(concerns))


def _lines(items, concerns: list[str]) -> list[str]:
    return [_sentence(item.text) for item in items if _for_concerns(item, concerns)]


def _steps(therapy: Therapy, catalogue) -> list:
    return [catalogue.steps[step.value] for step in therapy.steps if step.value in catalogue.steps]


def _treatment_lines(therapy: Therapy, concerns: list[str], texts: Mapping[str, Any]) -> list[str]:
    lines = _lines(therapy.patient.how, concerns)
    if therapy.harvest is None:
        lines.append(texts["donor"])
    processing = therapy.processing
    kind = processing.kind.value
    duration = processing.duration.text if processing.duration else ""
    if kind in {"culture", "point_of_care"} and duration:
        lines.append(texts[kind].format(duration=duration))
    elif kind == "manufactured":
        lines.append(texts["manufactured"])
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
    return list(dict.fromkeys(lines))


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
    return lines


def _risk_lines(therapy: Therapy, concerns: list[str], catalogue, texts: Mapping[str, Any]) -> list[str]:
    steps = _steps(therapy, catalogue)
    lines = [texts["anaesthetic_risk"]] if any(step.anaesthetic for step in steps) else []
    lines += list(texts["risks"])
    for step in steps:
        lines += _lines(step.risks, concerns)
    lines += _lines(therapy.patient.risks, concerns)
    return list(dict.fromkeys(lines))


def _recovery_lines(therapy: Therapy, concerns: list[str], catalogue) -> list[str]:
    lines = _lines(therapy.patient.recovery, concerns)
    for step in _steps(therapy, catalogue):
        lines += _lines(step.recovery, concerns)
    return list(dict.fromkeys(lines))


def expectations_for(fitting: list[tuple[Therapy, list[str]]], catalogue, rules: RuleSet) -> dict[str, Any]:
    """What to expect from each fitting therapy, in plain words, with the published figures."""
    texts = rules.texts
    sheets = []
    for therapy, concerns in fitting:
        sheets.append(
            {
                "code": therapy.code,
                "name": therapy.plain_name,
                "about": " ".join(therapy.patient.about.split()),
                "concerns": list(concerns),
                "investigational": therapy.investigational,
                "investigational_note": texts["investigational"] if therapy.investigational else "",
                "treatment": _treatment_lines(therapy, concerns, texts),
                "recovery": _recovery_lines(therapy, concerns, catalogue),
                "results": _result_lines(therapy, concerns, texts),
                "risks_intro": texts["risks_intro"],
                "risks": _risk_lines(therapy, concerns, catalogue, texts),
                "benefits_intro": texts["benefits_intro"],
                "benefits": _lines(therapy.patient.benefits, concerns),
            }
        )
    return {"introduction": texts["introduction"] if sheets else "", "therapies": sheets}
