"""Security headers, request ids, error pages and static assets served by the app itself."""

import re

import pytest


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/sign-in/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_every_asset_is_served_by_the_app(client):
    html = client.get("/sign-in/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), f"third-party asset {url}"


@pytest.mark.django_db
def test_the_request_id_is_made_by_the_server_whatever_the_client_sends(client):
    sent = client.get("/sign-in/", headers={"X-Request-ID": "abcdef123456"})
    assert re.fullmatch(r"[0-9a-f]{32}", sent["X-Request-ID"])
    assert sent["X-Request-ID"] != "abcdef123456"
    again = client.get("/sign-in/", headers={"X-Request-ID": "abcdef123456"})
    assert again["X-Request-ID"] != sent["X-Request-ID"]
    bad = client.get("/sign-in/", headers={"X-Request-ID": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", bad["X-Request-ID"])


@pytest.mark.django_db
def test_a_missing_page_answers_404_in_the_app_layout(client, dr_ada):
    client.force_login(dr_ada)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_stylesheet_script_and_icon_are_found_by_the_static_finders():
    from django.contrib.staticfiles import finders

    for asset in (
        "cellclinic/app.css",
        "cellclinic/favicon.svg",
        "django_htmx/htmx-2.min.js",
        "ninja/swagger-ui.css",
    ):
        assert finders.find(asset), f"{asset} would not be collected or served"
