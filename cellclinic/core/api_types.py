"""Bounded types for the API's input schemas: every string, list and number a client sends has a limit.

    class ThingIn(Schema):
        name: Line(150, min_length=1)      # one line of text: NFC, no control or bidi characters
        notes: Paragraph(5000)             # multi-line text: tab and line breaks allowed
        tags: list[Code] = Field(default_factory=list, max_length=LIST_MAX)
        thing_id: Id                       # 1 to 2**63 - 1, what every database's primary key holds

Limits (README "The API"): one-line text up to its field's length (names 150, free text up to 5,000),
lists up to LIST_MAX items, ids within a signed 64-bit integer, numbers finite.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from cellclinic.core.text import TextError, clean_text, clean_username

MAX_ID = 2**63 - 1
LIST_MAX = 50
CODE_MAX = 64
NOT_A_DATE = "must be a date written YYYY-MM-DD"

Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=False)]
Whole = Annotated[int, Field(ge=-(10**9), le=10**9)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


def _checked(check) -> Any:
    def validate(value: str) -> str:
        try:
            return check(value)
        except TextError as error:
            raise PydanticCustomError("text", str(error)) from None

    return AfterValidator(validate)


def _surrogates_refused(value: Any) -> Any:
    """A lone surrogate can reach a str field from JSON ("\\ud800"); it is refused before any other check."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("text", "contains a character that is not valid Unicode") from None
    return value


def Line(max_length: int, *, min_length: int = 0) -> Any:  # noqa: N802 - used as a type
    """One line of text of at most MAX_LENGTH characters."""
    return Annotated[
        str,
        BeforeValidator(_surrogates_refused),
        StringConstraints(min_length=min_length, max_length=max_length),
        _checked(clean_text),
    ]


def Paragraph(max_length: int, *, min_length: int = 0) -> Any:  # noqa: N802 - used as a type
    """Multi-line text (tab and line breaks allowed) of at most MAX_LENGTH characters."""
    return Annotated[
        str,
        BeforeValidator(_surrogates_refused),
        StringConstraints(min_length=min_length, max_length=max_length),
        _checked(lambda value: clean_text(value, multiline=True)),
    ]


def Username(max_length: int = 150) -> Any:  # noqa: N802 - used as a type
    """A user name: one line, letters of one script."""
    return Annotated[
        str,
        BeforeValidator(_surrogates_refused),
        StringConstraints(min_length=1, max_length=max_length),
        _checked(clean_username),
    ]


def Secret(max_length: int) -> Any:  # noqa: N802 - used as a type
    """A password: taken exactly as typed (never normalised), but always storable text."""
    return Annotated[
        str, BeforeValidator(_surrogates_refused), StringConstraints(min_length=1, max_length=max_length)
    ]


Code = Line(CODE_MAX)


def _date_as_text(value: Any) -> Any:
    """A date is written as text (YYYY-MM-DD); a number (0, a timestamp) is not a date."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise PydanticCustomError("date_type", NOT_A_DATE)
    return value


Date = Annotated[date, BeforeValidator(_date_as_text)]
