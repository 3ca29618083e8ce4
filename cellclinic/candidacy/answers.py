"""Checking API-shaped answers and turning them into the engine's Answers. Plain functions, no Django."""

from typing import Any

from cellclinic.candidacy.engine import (
    AREAS,
    CONCERNS,
    CONDITION_KEYS,
    EXPECTATIONS,
    HEALTH_KEYS,
    MAX_AGE,
    MAX_MONTHS,
    MAX_WEEKS,
    Answers,
)
from cellclinic.catalogue.vocabulary import ALLERGY_CODES, CONDITION_FACTS
from cellclinic.core.errors import FieldError, InvalidInput

TOP_LEVEL = ("concerns", "area", "age", "health", "condition", "expectation", "allergies")
NOT_A_BOOLEAN = "must be true, false or null (not answered)"
ALLERGIES_NOT_PUBLIC = "detailed allergies come from the chart, in a practitioner's assessment only"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_concerns(value: Any, errors: list[FieldError]) -> tuple[str, ...]:
    if not isinstance(value, list):
        errors.append(FieldError("concerns", "must be a list of concern codes"))
        return ()
    if not value:
        errors.append(FieldError("concerns", "choose at least one concern"))
    for index, item in enumerate(value):
        if item not in CONCERNS:
            errors.append(FieldError(f"concerns.{index}", f"unknown concern; allowed: {', '.join(CONCERNS)}"))
    return tuple(sorted({item for item in value if item in CONCERNS}, key=CONCERNS.index))


def _check_health(value: Any, errors: list[FieldError]) -> dict[str, bool | None]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors.append(FieldError("health", "must be an object of yes/no answers"))
        return dict.fromkeys(HEALTH_KEYS)
    for key in sorted(set(value) - set(HEALTH_KEYS)):
        errors.append(FieldError(f"health.{key}", "unknown health question"))
    health: dict[str, bool | None] = {}
    for key in HEALTH_KEYS:
        answer = value.get(key)
        if answer is not None and not isinstance(answer, bool):
            errors.append(FieldError(f"health.{key}", NOT_A_BOOLEAN))
            answer = None
        health[key] = answer
    return health


def _check_condition(value: Any, errors: list[FieldError]) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors.append(FieldError("condition", "must be an object"))
        return dict.fromkeys(CONDITION_KEYS)
    for key in sorted(set(value) - set(CONDITION_KEYS)):
        errors.append(FieldError(f"condition.{key}", "unknown condition detail"))
    condition: dict[str, Any] = {}
    for key in CONDITION_KEYS:
        answer = value.get(key)
        kind = CONDITION_FACTS[key]
        if answer is None:
            pass
        elif kind == "yes_no":
            if not isinstance(answer, bool):
                errors.append(FieldError(f"condition.{key}", NOT_A_BOOLEAN))
                answer = None
        else:
            limit = MAX_WEEKS if kind == "weeks" else MAX_MONTHS
            if not _whole(answer) or not 0 <= answer <= limit:
                errors.append(
                    FieldError(f"condition.{key}", f"must be a whole number of {kind}, 0 to {limit}")
                )
                answer = None
        condition[key] = answer
    return condition


def _check_contradictions(age: Any, condition: dict[str, Any], errors: list[FieldError]) -> None:
    """Answers that cannot all be true: the later field is named, with the one it contradicts."""
    months = condition.get("months_since_injury")
    if condition.get("wound_open") is False and months == 0:
        errors.append(
            FieldError(
                "condition.months_since_injury",
                "a healed wound or burn cannot be less than a month old: give the months since the "
                "injury, or say the skin is still open",
            )
        )
    weeks = condition.get("weeks_of_wound_care")
    if weeks is not None and months is not None and weeks > (months + 1) * 31 // 7 + 1:
        errors.append(
            FieldError(
                "condition.weeks_of_wound_care",
                f"longer than the wound has existed ({months} months since the injury)",
            )
        )
    if _whole(age) and 0 <= age <= MAX_AGE:
        lifetime = (age + 1) * 12
        for key in ("months_since_injury", "vitiligo_stable_months"):
            if condition.get(key) is not None and condition[key] > lifetime:
                errors.append(FieldError(f"condition.{key}", f"longer than a lifetime of {age} years"))


def _check_allergies(value: Any, errors: list[FieldError]) -> list[str]:
    if not isinstance(value, list):
        errors.append(FieldError("allergies", "must be a list of allergy codes"))
        return []
    for index, item in enumerate(value):
        if item not in ALLERGY_CODES:
            errors.append(
                FieldError(f"allergies.{index}", f"unknown allergy; allowed: {', '.join(ALLERGY_CODES)}")
            )
    return sorted({item for item in value if item in ALLERGY_CODES}, key=ALLERGY_CODES.index)


def answers_check(data: Any, *, detailed_allergies: bool) -> tuple[dict[str, Any], Answers]:
    """The answers as stored (every key present) and as the engine reads them.

    InvalidInput names each bad field.

    DETAILED_ALLERGIES allows the "allergies" list (a practitioner's assessment from the chart).
    """
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        raise InvalidInput.single("body", "must be an object of answers")
    for key in sorted(set(data) - set(TOP_LEVEL)):
        errors.append(FieldError(key, "unknown field"))
    concerns = _check_concerns(data.get("concerns"), errors)
    area = data.get("area")
    if area not in AREAS:
        errors.append(FieldError("area", f"unknown area; allowed: {', '.join(AREAS)}"))
    age = data.get("age")
    if not _whole(age) or not 0 <= age <= MAX_AGE:
        errors.append(FieldError("age", f"must be a whole number of years, 0 to {MAX_AGE}"))
    health = _check_health(data.get("health"), errors)
    condition = _check_condition(data.get("condition"), errors)
    _check_contradictions(age, condition, errors)
    expectation = data.get("expectation")
    if expectation not in EXPECTATIONS:
        errors.append(FieldError("expectation", f"unknown expectation; allowed: {', '.join(EXPECTATIONS)}"))
    allergies: list[str] | None = None
    if data.get("allergies") is not None:
        if detailed_allergies:
            allergies = _check_allergies(data["allergies"], errors)
        else:
            errors.append(FieldError("allergies", ALLERGIES_NOT_PUBLIC))
    if errors:
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInput(detail=f"Invalid answers; nothing was saved. {summary}", errors=errors)
    stored: dict[str, Any] = {
        "concerns": list(concerns),
        "area": area,
        "age": age,
        "health": health,
        "condition": condition,
        "expectation": expectation,
    }
    if allergies is not None:
        stored["allergies"] = allergies
    answers = Answers(
        concerns=concerns,
        area=area,
        age=age,
        health=health,
        condition=condition,
        expectation=expectation,
        allergies=frozenset(allergies) if allergies is not None else None,
    )
    return stored, answers
