"""How the audit trail words a change for people: "Field label: before → after", values as they read them.

Pure functions of an event's stored before/after (JSON values) and the field labels of its object type:
dates read "1 Jan 1980", booleans "yes"/"no", empty values "—", lists and nested objects as short
phrases, and long text cut short with the whole value kept alongside.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

EMPTY = "—"
CUT_AT = 120
YES, NO = "yes", "no"

# Words of a key written in capitals (or replaced) when a label is made from the key itself.
_WORDS = {
    "id": "ID",
    "ids": "IDs",
    "mrn": "MRN",
    "api": "API",
    "pdf": "PDF",
    "url": "URL",
    "ip": "IP",
    "nhs": "NHS",
    "tbsa": "TBSA",
    "sha256": "SHA-256",
    "pct": "(%)",
    "cm2": "(cm²)",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Value:
    """A value as the page shows it (`text`, cut short when long) and in full (`full`)."""

    text: str
    full: str

    @property
    def cut(self) -> bool:
        return self.text != self.full


@dataclass(frozen=True)
class ChangeLine:
    """One changed field: its label, the value before (None when the event only records a value, as
    when a record is created) and the value after ("—" when the value was removed)."""

    label: str
    before: Value | None
    after: Value

    def __str__(self) -> str:
        head = f"{self.label}: " if self.label else ""
        if self.before is None:
            return f"{head}{self.after.text}"
        return f"{head}{self.before.text} → {self.after.text}"


def label_from_key(key: str) -> str:
    """A readable label made from a stored key: "date_of_birth" reads "Date of birth",
    "patient_id" "Patient ID", "burn_tbsa_pct" "Burn TBSA (%)"."""
    words = [word for word in re.split(r"[_\-\s.]+", key.strip()) if word]
    if not words:
        return key
    shown = [_WORDS.get(word.lower(), word.lower()) for word in words]
    first = shown[0]
    shown[0] = first[0].upper() + first[1:]
    return " ".join(shown)


def field_label(key: str, labels: Mapping[str, str]) -> str:
    """The registered label of KEY, or one made from the key."""
    return labels.get(key) or label_from_key(key)


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _date_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _text_of_string(text: str) -> str:
    stripped = text.strip()
    if _DATE.fullmatch(stripped):
        try:
            return _date_text(date.fromisoformat(stripped))
        except ValueError:
            return stripped
    if _DATETIME.fullmatch(stripped):
        try:
            moment = datetime.fromisoformat(stripped)
        except ValueError:
            return stripped
        if moment.tzinfo is None:
            return f"{_date_text(moment)}, {moment:%H:%M}"
        moment = moment.astimezone(UTC)
        return f"{_date_text(moment)}, {moment:%H:%M} UTC"
    return _SPACES.sub(" ", stripped)


def value_text(value: Any, labels: Mapping[str, str] | None = None, *, nested: bool = False) -> str:
    """VALUE in words, whole: nested objects are "Label: value" pairs, lists are comma-separated."""
    labels = labels or {}
    if is_blank(value):
        return EMPTY
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return _text_of_string(value)
    if isinstance(value, Mapping):
        pairs = [
            f"{field_label(str(key), labels)}: {value_text(item, labels, nested=True)}"
            for key, item in value.items()
        ]
        text = "; ".join(pairs)
        return f"({text})" if nested else text
    if isinstance(value, Iterable):
        items = list(value)
        separator = "; " if any(isinstance(item, Mapping | list) for item in items) else ", "
        return separator.join(value_text(item, labels, nested=True) for item in items)
    return str(value)


def shown(value: Any, labels: Mapping[str, str] | None = None, *, limit: int = CUT_AT) -> Value:
    """VALUE in words, cut to LIMIT characters (ending "…") when longer, with the whole text kept."""
    full = value_text(value, labels)
    if len(full) <= limit:
        return Value(full, full)
    return Value(full[: limit - 1].rstrip() + "…", full)


def _ordered_keys(keys: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    """Keys in the order their labels were registered (the order of the record's form), then the rest
    alphabetically: the same order whatever order the database returns a JSON object's keys in."""
    keys = set(keys)
    known = [key for key in labels if key in keys]
    return known + sorted(keys - set(known))


def _same(old: Any, new: Any) -> bool:
    # Compared as JSON, which tells true from 1 and 1 from 1.0 where Python's == does not.
    return json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)


def change_lines(before: Any, after: Any, labels: Mapping[str, str] | None = None) -> list[ChangeLine]:
    """The lines of one event's change, one per field whose value differs.

    A field the event records only after (a record created, a count of sessions ended) shows its value
    alone; a field absent on one side and empty on the other has not changed; a field removed shows
    "old → —". Values that are not objects are compared whole, on one unlabelled line.
    """
    labels = labels or {}
    if not (isinstance(before, Mapping | None) and isinstance(after, Mapping | None)):
        if _same(before, after):
            return []
        return [ChangeLine("", None if before is None else shown(before, labels), shown(after, labels))]
    old, new = before or {}, after or {}
    lines = []
    for key in _ordered_keys(set(old) | set(new), labels):
        label = field_label(key, labels)
        if key in old and key in new:
            if not _same(old[key], new[key]):
                lines.append(ChangeLine(label, shown(old[key], labels), shown(new[key], labels)))
        elif key in old:
            if not is_blank(old[key]):
                lines.append(ChangeLine(label, shown(old[key], labels), shown(None)))
        elif not is_blank(new[key]):
            lines.append(ChangeLine(label, None, shown(new[key], labels)))
    return lines


def detail_lines(details: Any, labels: Mapping[str, str] | None = None) -> list[ChangeLine]:
    """What an access event recorded, as "Label: value" lines (empty values left out)."""
    if is_blank(details):
        return []
    return change_lines(None, details, labels)
