"""How many bytes a request may send, refused before anything reads them; and query strings that hold
characters no search or filter may hold (a NUL, a hidden text-direction character), refused before any
view, search or log sees them.

RequestSizeLimitMiddleware sits early in the chain. A request whose Content-Length is larger than the
limit for its address is answered 413 at once (JSON in the API's error shape under /api/, a small page
elsewhere); a body sent without a Content-Length (chunked) is read through a stream that stops at the
limit, and the request is then answered 413 as well.

The limit is settings.REQUEST_MAX_BYTES, unless the view says otherwise with @accepts_upload:

    @accepts_upload(lambda: settings.PHOTO_MAX_BYTES)   # the file, plus UPLOAD_FORM_OVERHEAD
    def consultation_photos(request, consultation_id): ...
"""

from collections.abc import Callable
from io import RawIOBase

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from cellclinic.core.text import problem

BODY_TOO_LARGE = "The request body is too large."
# Room for the other fields of an upload form and the multipart boundaries around the file.
UPLOAD_FORM_OVERHEAD = 64 * 1024
MARK = "request_max_bytes"


def accepts_upload(file_max_bytes: Callable[[], int]):
    """Mark a view as taking a file of up to FILE_MAX_BYTES() (read when a request comes, not at import)."""

    def mark(view):
        setattr(view, MARK, lambda: file_max_bytes() + UPLOAD_FORM_OVERHEAD)
        return view

    return mark


def limit_for(path_info: str) -> int:
    """The most bytes a request to PATH_INFO may send."""
    try:
        match = resolve(path_info)
    except Resolver404:
        return settings.REQUEST_MAX_BYTES
    marked = getattr(match.func, MARK, None)
    return marked() if marked is not None else settings.REQUEST_MAX_BYTES


class BodyTooLarge(RequestDataTooBig):
    """More bytes came than the limit allows."""


class CappedStream(RawIOBase):
    """A body of unknown length, read up to LIMIT bytes; one byte more raises BodyTooLarge."""

    def __init__(self, stream, limit: int, on_overflow: Callable[[], None]) -> None:
        super().__init__()
        self.stream = stream
        self.limit = limit
        self.remaining = limit
        self.on_overflow = on_overflow

    def readable(self) -> bool:
        return True

    def _take(self, data: bytes) -> bytes:
        if len(data) > self.remaining:
            self.on_overflow()
            raise BodyTooLarge(f"the body is larger than {self.limit} bytes")
        self.remaining -= len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        # One byte beyond what is left is enough to tell that the body is too large.
        want = self.remaining + 1 if size is None or size < 0 else min(size, self.remaining + 1)
        return self._take(self.stream.read(want))

    def readline(self, size: int = -1) -> bytes:
        want = self.remaining + 1 if size is None or size < 0 else min(size, self.remaining + 1)
        return self._take(self.stream.readline(want))


def too_large(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": BODY_TOO_LARGE, "errors": []}, status=413)
    return HttpResponse(render_to_string("errors/413.html"), status=413)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            # A length that is not a number counts as none, as Django reads it (no body at all).
            # Only a body over the default limit needs the view's own limit (an upload's is larger).
            size = int(declared) if declared.isdigit() else 0
            if size > settings.REQUEST_MAX_BYTES and size > limit_for(request.path_info):
                return too_large(request)
        elif request.META.get("wsgi.input_terminated") and "wsgi.input" in request.META:
            # No length given (chunked): the server ends the stream at the body's end; read up to the limit.
            overflowed: list[bool] = []
            limit = limit_for(request.path_info)
            request._stream = CappedStream(request.META["wsgi.input"], limit, lambda: overflowed.append(True))
            response = self.get_response(request)
            return too_large(request) if overflowed else response
        return self.get_response(request)


def query_problems(request) -> list[dict]:
    """Each query parameter whose name or value no person could have typed, with why."""
    errors = []
    for name, values in request.GET.lists():
        for value in (name, *values):
            reason = problem(value)
            if reason is not None:
                errors.append({"field": name if problem(name) is None else "query", "message": reason})
                break
    return errors


class QueryTextMiddleware:
    """A query string with a control, surrogate or bidi character: 422 in the API (naming the parameter),
    400 on a page. Nothing downstream (a search, a database, the access log) ever sees such text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("QUERY_STRING"):
            errors = query_problems(request)
            if errors:
                if request.path.startswith("/api/"):
                    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:20])
                    body = {"detail": f"Invalid input. {summary}", "errors": errors[:20]}
                    return JsonResponse(body, status=422)
                return HttpResponse(render_to_string("errors/400.html"), status=400)
        return self.get_response(request)
