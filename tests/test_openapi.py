"""The OpenAPI document and the interactive docs, served without third parties."""

import re

import pytest


@pytest.mark.django_db
def test_the_openapi_document_lists_every_router_and_both_authentications(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "CellClinic API"
    paths = schema["paths"]
    for path in (
        "/api/v1/accounts/me",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
        "/api/v1/catalogue/therapies",
        "/api/v1/audit/events",
    ):
        assert path in paths, f"{path} missing from the OpenAPI document"
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


@pytest.mark.django_db
def test_the_docs_page_loads_only_local_assets(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http://", "https://", "//")), url


@pytest.mark.django_db
def test_every_operation_documents_the_error_shape(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "errors"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = ("401", "404", "422") if operation.get("security") else ("404", "422")
            for status in expected:
                assert status in operation["responses"], f"{method.upper()} {path} does not document {status}"
            if method in {"post", "patch", "delete"}:
                assert "403" in operation["responses"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/patients", "/api/v1/patients/abc"])
def test_unknown_api_paths_answer_in_the_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}
