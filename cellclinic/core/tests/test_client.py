"""The client's address: one reading for sign-in lockouts and for the public rate limits."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from cellclinic.core.client import client_address


def _request(remote="10.0.0.9", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(_request(forwarded="203.0.113.7")) == "10.0.0.9"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        # Anything left of the trusted entries was written by the client and is not believed.
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        # Fewer entries than trusted proxies: the header cannot be trusted at all.
        (2, "203.0.113.7", "10.0.0.9"),
        (1, "", "10.0.0.9"),
    ],
)
def test_behind_trusted_proxies_the_client_is_counted_from_the_right(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(_request(forwarded=forwarded)) == expected


def test_the_sign_in_limiter_reads_the_same_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(forwarded="198.51.100.1, 203.0.113.7")
    assert get_client_ip_address(request) == "203.0.113.7" == client_address(request)


def test_no_address_at_all_is_none_not_a_made_up_value(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_address(request) is None
