"""The service layer's errors, and the one table of the HTTP status that answers each of them."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class InvalidInput(Exception):
    """Bad input, naming each field and why; raised before anything is changed."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @classmethod
    def single(cls, field_name: str, message: str) -> "InvalidInput":
        return cls(detail=f"{field_name}: {message}", errors=[FieldError(field_name, message)])

    @classmethod
    def from_django(cls, exc, detail: str = "Invalid input.") -> "InvalidInput":
        """From a django ValidationError (message_dict or a list of messages)."""
        errors: list[FieldError] = []
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                errors.extend(
                    FieldError(name if name != "__all__" else "non_field_errors", m) for m in messages
                )
        else:
            errors.extend(FieldError("non_field_errors", m) for m in exc.messages)
        return cls(detail=detail, errors=errors)

    def as_dict(self) -> dict:
        return {
            "detail": self.detail,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class NotFound(Exception):
    """Missing, or not visible to this user: both answer 404 so that existence does not leak."""


class Forbidden(Exception):
    """The user is known but their role does not allow this action."""


# The HTTP status answering each domain error, for the API's handlers and the pages' middleware alike.
HTTP_STATUS: dict[type[Exception], int] = {InvalidInput: 422, Forbidden: 403, NotFound: 404}


def http_status_of(exc: BaseException) -> int | None:
    """The status HTTP_STATUS gives EXC's class (or its nearest base class there); None for any other."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return None
