"""QC results checked against a protocol's release criteria, the release decision, and product expiry.

Pure: no Django. A criterion is either numeric (an operator and a limit, in a unit) or textual (an
expected result such as "Negative"). Numbers are compared as decimals of what was written, so a value
exactly at its limit is judged exactly: 70 % meets "≥ 70%" and 0.25 EU/mL does not meet "< 0.25 EU/mL".

Units: a result must be in the criterion's unit. Two simple cases are converted rather than refused: a
fraction for a percentage (0.72 fraction is 72%, and back), and a different power of ten of the same
unit (15 ×10⁶ cells/mL is 1.5 ×10⁷ cells/mL; "cells/mL" is the power 0). Anything else is refused with
a ValueError that names both units, as is a result for a test the criteria do not list, a number for
a textual criterion or a text for a numeric one.

A textual result passes when it says the expected result: either the whole expected text or its
leading words before any bracket or semicolon ("No growth" for "No growth (USP <71> ...); Gram stain
..."), ignoring case, spacing and a final full stop. `accepted_answer` gives those leading words.
"""

import calendar
import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class Operator(StrEnum):
    """How a numeric result is compared with its limit; the codes are the catalogue's."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="
    BETWEEN = "between"


class Outcome(StrEnum):
    """How a criterion stands: its result passes, fails, or has not been entered."""

    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"


SYMBOLS: dict[Operator, str] = {
    Operator.LT: "<",
    Operator.LE: "≤",
    Operator.GT: ">",
    Operator.GE: "≥",
    Operator.EQ: "=",
}
FRACTION = "fraction"
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
POWER_OF_TEN = re.compile(r"^[×x]\s*10(?:\^(-?\d+)|([⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))(?:\s+(.*))?$")
TIME_UNITS = ("minutes", "hours", "days", "weeks", "months")


def _key(text: str) -> str:
    """Text compared as a person would: case, spacing and a final full stop ignored."""
    return " ".join(text.split()).casefold().rstrip(".").strip()


def _decimal(value: object, field: str) -> Decimal:
    """A finite number as the decimal it was written as (0.7 is exactly 0.7)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{field}: must be a number, got {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{field}: must be a finite number, got {value!r}")
    return number


def _text(value: object, field: str, *, required: bool) -> str | None:
    """A stripped, non-blank string; None when absent and not required."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field}: must be a non-empty text, got {value!r}")
    return " ".join(value.split())


def number(value: Decimal) -> str:
    """70 -> "70", 0.150 -> "0.15", 1E+7 -> "10000000", -75 -> "−75" (a true minus sign)."""
    text = format(value.normalize(), "f")
    return text.replace("-", "\u2212")


def quantity(amount: str, unit: str | None) -> str:
    """An amount and its unit: 30 and % read 30%, 3 and mm read 3 mm, no unit reads the amount."""
    if not unit:
        return amount
    return f"{amount}{unit}" if unit.startswith("%") else f"{amount} {unit}"


def _power_of_ten(unit: str) -> tuple[int, str]:
    """ "×10⁷ cells/mL" -> (7, "cells/mL"); a unit without a leading power of ten -> (0, unit)."""
    match = POWER_OF_TEN.match(unit)
    if match is None:
        return 0, unit
    exponent = match.group(1) or match.group(2).translate(SUPERSCRIPTS)
    return int(exponent), (match.group(3) or "").strip()


def convert(value: Decimal, from_unit: str | None, to_unit: str | None) -> Decimal:
    """VALUE in FROM_UNIT expressed in TO_UNIT; a ValueError naming both units when they do not convert."""
    source = " ".join(from_unit.split()) if from_unit else None
    target = " ".join(to_unit.split()) if to_unit else None
    if source == target:
        return value
    if source and target:
        if source == FRACTION and target.startswith("%"):
            return value * 100
        if source.startswith("%") and target == FRACTION:
            return value / 100
        (from_power, from_base), (to_power, to_base) = _power_of_ten(source), _power_of_ten(target)
        if from_base and from_base == to_base:
            return value.scaleb(from_power - to_power)
    raise ValueError(
        f"unit: a result in {source or 'no unit'} cannot be compared with a limit in {target or 'no unit'}"
    )


@dataclass(frozen=True)
class Criterion:
    """One release test of a protocol: an operator and limit(s) in a unit, or an expected text result."""

    test: str
    operator: Operator | None = None
    limit: Decimal | None = None
    limit_max: Decimal | None = None
    unit: str | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        test = _text(self.test, "test", required=True)
        where = f"criterion {test!r}"
        operator = self.operator
        if operator is not None:
            try:
                operator = Operator(getattr(operator, "value", operator))
            except ValueError:
                codes = ", ".join(code.value for code in Operator)
                raise ValueError(f"{where}: operator must be one of {codes}, got {operator!r}") from None
        limit = None if self.limit is None else _decimal(self.limit, f"{where}: limit")
        limit_max = None if self.limit_max is None else _decimal(self.limit_max, f"{where}: limit_max")
        expected = _text(self.expected, f"{where}: expected", required=False)
        unit = _text(self.unit, f"{where}: unit", required=False)
        if operator is None and expected is None:
            raise ValueError(f"{where}: operator: give an operator and a limit, or an expected result")
        if operator is not None and limit is None:
            raise ValueError(f"{where}: limit: required with operator {operator.value!r}")
        if operator is Operator.BETWEEN:
            if limit_max is None:
                raise ValueError(f"{where}: limit_max: required with operator 'between'")
            if limit is not None and limit > limit_max:
                raise ValueError(
                    f"{where}: limit_max: must be at least limit ({number(limit)}), got {number(limit_max)}"
                )
        elif limit_max is not None:
            raise ValueError(f"{where}: limit_max: only used with operator 'between'")
        if operator is None and (limit is not None or unit is not None):
            raise ValueError(f"{where}: limit and unit are only used with an operator")
        for name, value in (
            ("test", test),
            ("operator", operator),
            ("limit", limit),
            ("limit_max", limit_max),
            ("unit", unit),
            ("expected", expected),
        ):
            object.__setattr__(self, name, value)

    @property
    def is_numeric(self) -> bool:
        return self.operator is not None

    @property
    def specification(self) -> str:
        """The limit as a person reads it ("≥ 70%", "1–2 ×10⁷ cells/mL"), or the expected result."""
        if self.operator is None or self.limit is None:
            return self.expected or ""
        if self.operator is Operator.BETWEEN and self.limit_max is not None:
            amount = f"{number(self.limit)}\u2013{number(self.limit_max)}"
        else:
            amount = f"{SYMBOLS[self.operator]} {number(self.limit)}"
        return quantity(amount, self.unit)

    def admits(self, value: Decimal) -> bool:
        """True when VALUE, in this criterion's unit, is within the limit."""
        if self.operator is None or self.limit is None:
            raise ValueError(f"criterion {self.test!r}: expects a text result, not a number")
        match self.operator:
            case Operator.LT:
                return value < self.limit
            case Operator.LE:
                return value <= self.limit
            case Operator.GT:
                return value > self.limit
            case Operator.GE:
                return value >= self.limit
            case Operator.EQ:
                return value == self.limit
            case Operator.BETWEEN:
                return self.limit <= value <= (self.limit_max if self.limit_max is not None else self.limit)


def criterion_from(source: object) -> Criterion:
    """A Criterion from any object with the attributes test, operator, limit, limit_max, unit, expected.

    The catalogue's release criteria have these attributes; an operator may be an enum or its code.
    Missing attributes other than `test` read as absent.
    """
    if not hasattr(source, "test"):
        raise ValueError(f"test: a release criterion needs a test name, got {source!r}")
    return Criterion(
        test=source.test,
        operator=getattr(source, "operator", None),
        limit=getattr(source, "limit", None),
        limit_max=getattr(source, "limit_max", None),
        unit=getattr(source, "unit", None),
        expected=getattr(source, "expected", None),
    )


def accepted_answer(criterion: Criterion) -> str:
    """The words a textual result must say: the expected text up to any bracket or semicolon."""
    if criterion.expected is None:
        raise ValueError(f"criterion {criterion.test!r}: is numeric and has no expected text")
    head = re.split(r"[(;]", criterion.expected, maxsplit=1)[0].strip().rstrip(".,:").strip()
    return head or criterion.expected


@dataclass(frozen=True)
class QCResult:
    """The result of one QC test: a number in a unit, or a text such as "Negative"."""

    test: str
    value: Decimal | None = None
    text: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        test = _text(self.test, "test", required=True)
        where = f"result for {test!r}"
        if (self.value is None) == (self.text is None):
            raise ValueError(f"{where}: value: give either a number or a text result, not both or neither")
        value = None if self.value is None else _decimal(self.value, f"{where}: value")
        text = _text(self.text, f"{where}: text", required=False)
        unit = _text(self.unit, f"{where}: unit", required=False)
        if text is not None and unit is not None:
            raise ValueError(f"{where}: unit: a text result has no unit")
        for name, item in (("test", test), ("value", value), ("text", text), ("unit", unit)):
            object.__setattr__(self, name, item)

    @property
    def reading(self) -> str:
        """The result as entered: "72%", "1.5 ×10⁷ cells/mL", "'Negative'"."""
        if self.value is None:
            return f"'{self.text}'"
        return quantity(number(self.value), self.unit)


@dataclass(frozen=True)
class Evaluation:
    """One criterion judged against its result (or its absence), with the limit and the reason in words."""

    criterion: Criterion
    result: QCResult | None
    outcome: Outcome
    reason: str

    @property
    def test(self) -> str:
        return self.criterion.test

    @property
    def specification(self) -> str:
        return self.criterion.specification

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS


def evaluate_one(criterion: Criterion, result: QCResult | None) -> Evaluation:
    """CRITERION judged against RESULT: pass or fail with the reason, or missing when there is none."""
    if result is None:
        return Evaluation(
            criterion, None, Outcome.MISSING, f"no result entered; needs {criterion.specification}"
        )
    if _key(result.test) != _key(criterion.test):
        raise ValueError(f"test: the result for {result.test!r} is not a result for {criterion.test!r}")
    if criterion.is_numeric:
        if result.value is None:
            raise ValueError(
                f"result for {criterion.test!r}: value: needs a number in {criterion.unit or 'no unit'}, "
                f"got the text {result.text!r}"
            )
        try:
            value = convert(result.value, result.unit, criterion.unit)
        except ValueError as error:
            raise ValueError(f"result for {criterion.test!r}: {error}") from None
        reading = result.reading
        if (result.unit or None) != criterion.unit:
            reading = f"{reading} ({quantity(number(value), criterion.unit)})"
        if criterion.admits(value):
            return Evaluation(criterion, result, Outcome.PASS, f"{reading} meets {criterion.specification}")
        return Evaluation(
            criterion, result, Outcome.FAIL, f"{reading} does not meet {criterion.specification}"
        )
    if result.text is None:
        raise ValueError(
            f"result for {criterion.test!r}: text: needs a text result such as "
            f"{accepted_answer(criterion)!r}, got the number {result.reading}"
        )
    answer = accepted_answer(criterion)
    if _key(result.text) in {_key(answer), _key(criterion.expected or "")}:
        return Evaluation(criterion, result, Outcome.PASS, f"{result.reading} is the expected result")
    return Evaluation(
        criterion, result, Outcome.FAIL, f"{result.reading} is not the expected result: {answer}"
    )


def evaluate(criteria: Iterable[Criterion], results: Iterable[QCResult]) -> tuple[Evaluation, ...]:
    """Every criterion judged against its result, in the criteria's order; results match by test name.

    Test names match ignoring case and spacing. Two criteria or two results for the same test, or a
    result for a test the criteria do not list, are refused with a ValueError naming the test.
    """
    by_test: dict[str, Criterion] = {}
    for criterion in criteria:
        if _key(criterion.test) in by_test:
            raise ValueError(f"criteria: the test {criterion.test!r} is listed twice")
        by_test[_key(criterion.test)] = criterion
    found: dict[str, QCResult] = {}
    for result in results:
        key = _key(result.test)
        if key not in by_test:
            names = ", ".join(repr(c.test) for c in by_test.values()) or "none"
            raise ValueError(
                f"results: no release criterion is named {result.test!r}; the criteria are {names}"
            )
        if key in found:
            raise ValueError(f"results: the test {result.test!r} has two results; correct one instead")
        found[key] = result
    return tuple(evaluate_one(criterion, found.get(key)) for key, criterion in by_test.items())


class RefusalCode(StrEnum):
    """Why a release is refused, as a code other tools can rely on."""

    NO_CRITERIA = "no_criteria"
    RESULT_MISSING = "result_missing"
    CRITERION_FAILED = "criterion_failed"
    RELEASER_PROCESSED = "releaser_processed"


@dataclass(frozen=True)
class Refusal:
    """One reason a batch may not be released: its code and the words a person reads."""

    code: RefusalCode
    text: str


@dataclass(frozen=True)
class ReleaseDecision:
    """Whether a batch may be released, and every reason it may not (none when it may)."""

    allowed: bool
    reasons: tuple[Refusal, ...]


def release_decision(
    evaluations: Sequence[Evaluation], processor_id: Hashable, releaser_id: Hashable
) -> ReleaseDecision:
    """Allowed only when there are criteria, every one passes, and the releaser did not process the batch.

    Every reason to refuse is listed, a missing or failing criterion each by its test and reason.
    """
    for field, person in (("processor_id", processor_id), ("releaser_id", releaser_id)):
        if person is None or (isinstance(person, str) and not person.strip()):
            raise ValueError(f"{field}: must name a person, got {person!r}")
    reasons: list[Refusal] = []
    if not evaluations:
        reasons.append(
            Refusal(RefusalCode.NO_CRITERIA, "there are no release criteria to check the batch against")
        )
    for evaluation in evaluations:
        if not isinstance(evaluation, Evaluation):
            raise ValueError(f"evaluations: expected evaluations of release criteria, got {evaluation!r}")
        if evaluation.outcome is Outcome.MISSING:
            reasons.append(Refusal(RefusalCode.RESULT_MISSING, f"{evaluation.test}: {evaluation.reason}"))
        elif evaluation.outcome is Outcome.FAIL:
            reasons.append(Refusal(RefusalCode.CRITERION_FAILED, f"{evaluation.test}: {evaluation.reason}"))
    if processor_id == releaser_id:
        reasons.append(
            Refusal(RefusalCode.RELEASER_PROCESSED, "the person who processed the batch cannot release it")
        )
    return ReleaseDecision(allowed=not reasons, reasons=tuple(reasons))


def _add_months(moment: datetime, months: int) -> datetime:
    """MOMENT moved by whole calendar months, the day kept or cut to the last day of a shorter month."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expires_at(start: datetime, shelf_life_amount: float, unit: str) -> datetime:
    """When a product whose shelf life (SHELF_LIFE_AMOUNT UNIT) counts from START expires.

    START must carry a time zone; the answer is in the same zone. Minutes, hours, days and weeks are
    elapsed time, so a shelf life across a daylight-saving change is still exactly that long; months
    are whole calendar months, counted in UTC, a day past the end of a shorter month cut to its last day.
    """
    if not isinstance(start, datetime):
        raise ValueError(f"start: must be a date and time, got {start!r}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start: must carry a time zone")
    code = getattr(unit, "value", unit)
    if code not in TIME_UNITS:
        raise ValueError(f"unit: must be one of {', '.join(TIME_UNITS)}, got {unit!r}")
    if isinstance(shelf_life_amount, bool) or not isinstance(shelf_life_amount, int | float):
        raise ValueError(f"shelf_life_amount: must be a number, got {shelf_life_amount!r}")
    if not math.isfinite(shelf_life_amount) or shelf_life_amount <= 0:
        raise ValueError(f"shelf_life_amount: must be a positive number, got {shelf_life_amount!r}")
    moment = start.astimezone(UTC)
    if code == "months" and shelf_life_amount != int(shelf_life_amount):
        raise ValueError(f"shelf_life_amount: months must be whole, got {shelf_life_amount!r}")
    try:
        if code == "months":
            end = _add_months(moment, int(shelf_life_amount))
        else:
            end = moment + timedelta(**{code: shelf_life_amount})
    except (OverflowError, ValueError):
        raise ValueError(
            f"shelf_life_amount: {shelf_life_amount!r} {code} from {start.isoformat()} is past any date"
        ) from None
    return end.astimezone(start.tzinfo)
