"""The OpenAPI document as a test oracle: every API answer given during the tests must match it.

Installed as a middleware for the test run only (see conftest.py), so every client — the test
client, the JSON helper, the live server — is checked, and an endpoint that drifts from its
document fails the suite.
"""

import json
import re
from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SKIPPED = ("/api/v1/openapi.json", "/api/v1/docs")


class OpenApiMismatch(AssertionError):
    pass


@cache
def _document() -> dict:
    from cellclinic.api import api

    return api.get_openapi_schema()


@cache
def _routes() -> list[tuple[re.Pattern, dict]]:
    routes = []
    for template, operations in _document()["paths"].items():
        parts = re.split(r"(\{\w+\})", template)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        routes.append((re.compile(f"^{pattern}$"), operations))
    return routes


def _operation(method: str, path: str) -> dict | None:
    for pattern, operations in _routes():
        if pattern.match(path):
            return operations.get(method)
    return None


def check(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise OpenApiMismatch when the answer is not what the document promises."""
    operation = _operation(method, path)
    if operation is None:
        return
    documented = operation["responses"].get(str(status))
    if documented is None:
        raise OpenApiMismatch(
            f"{method.upper()} {path} answered {status}, which its OpenAPI operation does not list "
            f"({', '.join(sorted(operation['responses']))})"
        )
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        if body:
            raise OpenApiMismatch(f"{method.upper()} {path} {status}: a body where none is documented")
        return
    if not content_type.startswith("application/json"):
        raise OpenApiMismatch(f"{method.upper()} {path} {status}: {content_type!r} instead of JSON")
    validator = Draft202012Validator({**schema, "components": _document().get("components", {})})
    error = best_match(validator.iter_errors(json.loads(body)))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        raise OpenApiMismatch(f"{method.upper()} {path} {status}: at {where}: {error.message}")


class OpenApiOracleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/") and request.path not in SKIPPED:
            check(
                request.method.lower(),
                request.path,
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
        return response
