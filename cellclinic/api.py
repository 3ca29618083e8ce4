"""The JSON API: one NinjaAPI at /api/v1/, one router per app, one error shape for every failure."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from cellclinic.accounts.auth import api_auth
from cellclinic.core.errors import HTTP_STATUS, Forbidden, InvalidInput, NotFound
from cellclinic.core.limits import BODY_TOO_LARGE
from cellclinic.idempotency.middleware import HEADER as IDEMPOTENCY_HEADER
from cellclinic.idempotency.middleware import IN_FLIGHT
from cellclinic.idempotency.middleware import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN

logger = logging.getLogger("cellclinic.api")
# An answer names at most this many invalid fields (the detail says how many there were in all).
MAX_ERRORS = 20
SERVER_ERROR = "An error on the server; nothing was changed."

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in words."},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field (empty when no field is to blame).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
ERROR_RESPONSES = {
    "401": "Authentication required.",
    "404": "Not found, or not visible to you (the two are not told apart).",
    "413": "The request body is larger than this address accepts (README: REQUEST_MAX_BYTES).",
    "422": "Invalid input; nothing was changed. At most 20 fields are named; the detail gives the total.",
    "500": "An error on the server; nothing was changed.",
}
UNSAFE_ERROR_RESPONSES = {"403": "The CSRF check failed (session authentication)."}
IDEMPOTENCY_KEY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "A key of the client's choosing (a UUID) that makes a retry safe: the same key with the same request "
        "within a day answers the first successful answer again (header `Idempotent-Replayed: true`) and "
        "makes nothing new; the same key with another request answers 422, and while the first request is "
        "still being answered, 409. Keys are kept per user, or per client address when anonymous."
    ),
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN, "maxLength": 255},
}


class CellClinicAPI(NinjaAPI):
    """Documents the one error shape on every operation, once, instead of on each route."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                extra = dict(ERROR_RESPONSES)
                if method in {"post", "put", "patch", "delete"}:
                    extra.update(UNSAFE_ERROR_RESPONSES)
                if not operation.get("security"):  # a public operation
                    extra.pop("401")
                if "requestBody" in operation:
                    extra["400"] = "The body is not valid JSON."
                if method == "post":  # every POST makes a record: a retry may name it with a key
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
                    extra["409"] = IN_FLIGHT
                # Ninja keys its own responses by number; JSON object keys are strings either way.
                responses = {str(status): value for status, value in operation["responses"].items()}
                for status, description in extra.items():
                    responses.setdefault(status, {"description": description, **ref})
                operation["responses"] = responses
        return schema


api = CellClinicAPI(
    title="CellClinic API",
    version="1",
    description=(
        "Skin cell therapy service. Authenticate with a session (browser) or "
        "`Authorization: Bearer <token>` (create one with `cellclinic createuser ... --token`). "
        'Every error answers `{"detail": ..., "errors": [{"field": ..., "message": ...}]}`.'
    ),
    urls_namespace="api",
    auth=api_auth(),
)


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def capped(detail: str, errors: list[dict], total: int | None = None) -> dict:
    """The error shape naming at most MAX_ERRORS fields; DETAIL summarises those and counts the rest."""
    total = len(errors) if total is None else total
    shown = errors[:MAX_ERRORS]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in shown)
    if total > len(shown):
        summary += f" ({total} errors in all; the first {len(shown)} are listed)"
    return error_body(f"{detail} {summary}".strip(), shown)


def _field_name(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    # Ninja wraps a whole-body schema under its parameter name; that name means nothing to a client.
    if loc and loc[0] == "body" and parts:
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {"field": _field_name(e.get("loc", ())), "message": e.get("msg", "is not valid")}
        for e in exc.errors[:MAX_ERRORS]
    ]
    return api.create_response(request, capped("Invalid input.", errors, len(exc.errors)), status=422)


@api.exception_handler(InvalidInput)
def on_invalid_input(request, exc: InvalidInput):
    body = exc.as_dict()
    if len(body["errors"]) > MAX_ERRORS:
        body = capped("Invalid input.", body["errors"])
    return api.create_response(request, body, status=HTTP_STATUS[InvalidInput])


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, error_body("Authentication required."), status=401)


@api.exception_handler(AuthorizationError)
def on_authorization_error(request, exc):
    return api.create_response(request, error_body("You do not have permission to do this."), status=403)


@api.exception_handler(Forbidden)
def on_forbidden(request, exc):
    detail = str(exc) or "You do not have permission to do this."
    return api.create_response(request, error_body(detail), status=HTTP_STATUS[Forbidden])


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body("Not found."), status=404)


@api.exception_handler(NotFound)
def on_missing(request, exc):
    return api.create_response(request, error_body("Not found."), status=HTTP_STATUS[NotFound])


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


@api.exception_handler(Throttled)
def on_throttled(request, exc: Throttled):
    from cellclinic.candidacy.throttle import TOO_MANY

    return api.create_response(request, error_body(TOO_MANY), status=429)


@api.exception_handler(Exception)
def on_server_error(request, exc: Exception):
    """Anything unforeseen: logged with its traceback, answered in the error shape, never as an HTML page."""
    if isinstance(exc, RequestDataTooBig):
        return api.create_response(request, error_body(BODY_TOO_LARGE), status=413)
    if isinstance(exc, SuspiciousOperation):
        return api.create_response(request, error_body("The request is not valid."), status=400)
    if isinstance(exc, PermissionDenied):
        return api.create_response(request, error_body("You do not have permission to do this."), status=403)
    logger.error("Internal Server Error: %s", request.path, exc_info=exc)
    return api.create_response(request, error_body(SERVER_ERROR), status=500)


@csrf_exempt  # it changes nothing; without this an unsafe method would get the HTML CSRF page instead
def api_not_found(request, *args, **kwargs):
    """Any other path under /api/ answers in the API's own error shape, not with an HTML page."""
    return JsonResponse(error_body("Not found."), status=404)


def _add_routers() -> None:
    from cellclinic.accounts.api import router as accounts_router
    from cellclinic.audit.api import router as audit_router
    from cellclinic.candidacy.api import enquiry_router
    from cellclinic.candidacy.api import router as candidacy_router
    from cellclinic.catalogue.api import router as catalogue_router
    from cellclinic.consents.api import router as consents_router
    from cellclinic.consultations.api import router as consultations_router
    from cellclinic.lab.api import router as lab_router
    from cellclinic.patients.api import router as patients_router
    from cellclinic.treatment.api import router as treatment_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/patients", patients_router)
    api.add_router("/catalogue", catalogue_router)
    api.add_router("/audit", audit_router)
    api.add_router("/consultations", consultations_router)
    api.add_router("/consents", consents_router)
    api.add_router("/assessments", candidacy_router)
    api.add_router("/enquiries", enquiry_router)
    api.add_router("/plans", treatment_router)
    # The lab's records sit at the top level: /specimens, /batches, /products, /bedside-checks, ...
    api.add_router("", lab_router)


_add_routers()
