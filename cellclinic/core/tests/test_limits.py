"""Request bodies larger than their address accepts are refused before anything reads them."""

import io
import json

import pytest
from django.test import Client

from cellclinic.core.limits import UPLOAD_FORM_OVERHEAD, BodyTooLarge, CappedStream, limit_for

pytestmark = pytest.mark.django_db

THREE_GB = str(3 * 1024**3)


class Unreadable(io.RawIOBase):
    """A body that must never be read: reading it fails the test."""

    def readable(self):
        return True

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readline = read


def send(path, *, length=THREE_GB, body=None, method="POST", **extra):
    """A request to PATH declaring LENGTH bytes; the body itself is never there to be read."""
    client = Client(enforce_csrf_checks=True)
    environ = {"CONTENT_LENGTH": length, "wsgi.input": body if body is not None else Unreadable()}
    kind = "multipart/form-data; boundary=x"  # a form with a file: Django would read and spool it
    return client.generic(method, path, b"", content_type=kind, **environ, **extra)


@pytest.mark.parametrize("path", ["/sign-in/", "/assess/", "/patients/new/", "/no-such-page/"])
def test_a_huge_body_to_a_page_is_refused_with_413_before_it_is_read(path):
    response = send(path)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"Too large" in response.content


@pytest.mark.parametrize("path", ["/api/v1/assessments", "/api/v1/patients", "/api/v1/nothing-here"])
def test_a_huge_body_to_the_api_is_refused_with_413_in_the_error_shape(path):
    response = send(path)

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large.", "errors": []}


def test_the_limit_is_request_max_bytes_and_one_byte_more_is_refused(settings):
    settings.REQUEST_MAX_BYTES = 1000
    ok = Client().post("/api/v1/assessments", b"x" * 1000, content_type="application/json")
    too_big = Client().post("/api/v1/assessments", b"x" * 1001, content_type="application/json")

    assert ok.status_code == 400  # read, and found not to be JSON
    assert too_big.status_code == 413


def test_photo_upload_pages_take_a_photo_and_its_form_and_no_more(settings):
    settings.PHOTO_MAX_BYTES = 5_000_000
    settings.REQUEST_MAX_BYTES = 1000

    assert limit_for("/consultations/1/photos/") == 5_000_000 + UPLOAD_FORM_OVERHEAD
    assert limit_for("/sign-in/") == 1000
    assert limit_for("/api/v1/patients") == 1000
    assert (
        send("/consultations/1/photos/", length=str(5_000_000 + UPLOAD_FORM_OVERHEAD + 1)).status_code == 413
    )


def test_the_django_limits_come_from_the_settings(settings):
    from django.conf import settings as live

    assert live.DATA_UPLOAD_MAX_MEMORY_SIZE == live.REQUEST_MAX_BYTES
    assert live.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 300
    assert live.DATA_UPLOAD_MAX_NUMBER_FILES <= 5
    assert live.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440


def test_a_body_without_a_length_is_read_up_to_the_limit_and_then_refused(settings):
    """Chunked: no Content-Length, the server marks the stream as ending with the body."""
    settings.REQUEST_MAX_BYTES = 1000
    client = Client()

    def chunked(body: bytes):
        environ = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True}
        request = client._base_environ(REQUEST_METHOD="POST", PATH_INFO="/api/v1/assessments", **environ)
        request.pop("CONTENT_LENGTH", None)
        request["CONTENT_TYPE"] = "application/json"
        return client.handler(request)

    assert chunked(b"{not json").status_code == 400
    response = chunked(b" " * 5000 + b"{}")
    assert response.status_code == 413
    assert json.loads(response.content)["detail"] == "The request body is too large."


def test_the_capped_stream_stops_one_byte_past_the_limit():
    overflowed = []
    stream = CappedStream(io.BytesIO(b"a" * 10), 10, lambda: overflowed.append(True))
    assert stream.read(4) == b"aaaa"
    assert stream.read() == b"aaaaaa"
    assert stream.read() == b""
    assert not overflowed

    stream = CappedStream(io.BytesIO(b"a" * 11), 10, lambda: overflowed.append(True))
    with pytest.raises(BodyTooLarge):
        stream.read()
    assert overflowed == [True]


def test_serve_gives_gunicorn_its_request_limits(settings):
    from cellclinic.core.management.commands.serve import limit_arguments

    settings.REQUEST_LINE_MAX_BYTES = 2048
    settings.REQUEST_HEADERS_MAX = 40
    settings.REQUEST_HEADER_MAX_BYTES = 4096

    assert limit_arguments() == [
        "--limit-request-line",
        "2048",
        "--limit-request-fields",
        "40",
        "--limit-request-field_size",
        "4096",
    ]


@pytest.mark.parametrize("query", ["q=a%00b", "status=%E2%80%AE", "unknown=%01", "%00=1"])
def test_a_query_string_with_a_nul_or_bidi_control_answers_422_in_the_api(api_as, dr_ada, query):
    response = api_as(dr_ada).get(f"/api/v1/consultations?{query}")

    assert response.status_code == 422
    name = query.split("=")[0]
    assert response.json()["errors"][0]["field"] == ("query" if "%" in name else name)


def test_a_query_string_with_a_nul_answers_400_on_a_page(client):
    response = client.get("/sign-in/?next=%00")

    assert response.status_code == 400
    assert b"Not understood" in response.content
