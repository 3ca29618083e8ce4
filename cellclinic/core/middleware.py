"""Request id: one id per request, made by the server, sent back in a header and written on every audit
event (the client's own X-Request-ID is kept apart); and the error pages that answer a domain error
raised in a page."""

import re
import uuid
from contextvars import ContextVar

from cellclinic.core import views
from cellclinic.core.errors import http_status_of

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_client_request_id: ContextVar[str | None] = ContextVar("client_request_id", default=None)
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    """The server's id of the request being answered."""
    return _request_id.get()


def current_client_request_id() -> str | None:
    """The X-Request-ID the client or a proxy sent, when well-formed: kept, never trusted as the id."""
    return _client_request_id.get()


class RequestIdMiddleware:
    """Give every request an id made here (uuid4); keep a well-formed X-Request-ID the client sent
    apart, as the client's id. Both reach the audit trail; the response carries the server's id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        client_request_id = incoming if _ACCEPTABLE.match(incoming) else ""
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        request.client_request_id = client_request_id
        token = _request_id.set(request_id)
        client_token = _client_request_id.set(client_request_id or None)
        try:
            response = self.get_response(request)
        finally:
            _client_request_id.reset(client_token)
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


# The page for each status of core.errors.HTTP_STATUS that a page answers with; any other error goes on.
ERROR_PAGES = {403: views.forbidden, 404: views.not_found}


class DomainErrorMiddleware:
    """A Forbidden raised in a page answers with the 403 page and a NotFound with the 404 page, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        page = ERROR_PAGES.get(http_status_of(exception))
        return None if page is None else page(request, exception)
