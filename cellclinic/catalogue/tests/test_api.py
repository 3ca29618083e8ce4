"""The catalogue API: the same readers as the pages, one error shape, no data in a refusal."""

import pytest

BASE = "/api/v1/catalogue"


@pytest.mark.parametrize("persona", ["dr_ada", "lab_li"])
def test_it_lists_therapy_summaries(api_as, request, persona):
    response = api_as(request.getfixturevalue(persona)).get(f"{BASE}/therapies")

    assert response.status_code == 200
    therapies = {t["code"]: t for t in response.json()}
    fibroblast = therapies["autologous_fibroblast_injection"]
    assert fibroblast["name"] == "Autologous cultured fibroblast injection"
    assert fibroblast["cell_source"] == "autologous"
    assert fibroblast["indications"] == ["premature_ageing"]
    assert fibroblast["processing_kind"] == "culture"
    assert fibroblast["processing_duration"]["min"] == 11
    assert fibroblast["processing_duration"]["max"] == 22
    assert fibroblast["processing_duration"]["unit"] == "weeks"
    assert fibroblast["delivery_methods"] == ["injection"]
    assert therapies["autologous_skin_cell_suspension"]["delivery_methods"] == ["spray", "drip"]
    assert therapies["autologous_fibroblast_injection_acne_scars"]["investigational"] is True


def test_it_returns_one_therapy_in_full(api_as, dr_ada):
    response = api_as(dr_ada).get(f"{BASE}/therapies/autologous_fibroblast_injection")

    assert response.status_code == 200
    therapy = response.json()
    assert therapy["code"] == "autologous_fibroblast_injection"
    assert therapy["shelf_life"][0]["max"] == 24
    assert therapy["shelf_life"][0]["unit"] == "hours"
    assert therapy["shelf_life"][0]["after"] == "formulation"
    assert therapy["contraindications"][1]["screening"] == "antibiotic"
    assert therapy["release_criteria"][3]["operator"] == ">="
    assert therapy["evidence"][0]["value"] == 30
    assert therapy["evidence"][0]["comparator_value"] == 8
    assert therapy["sources"]["S9"].startswith("Phase III LAVIV data")


def test_it_lists_alternatives_with_their_sources(api_as, dr_ada):
    response = api_as(dr_ada).get(f"{BASE}/alternatives")

    assert response.status_code == 200
    alternatives = {a["code"]: a for a in response.json()}
    nb_uvb = alternatives["nb_uvb_phototherapy"]
    assert nb_uvb["indications"] == ["vitiligo"]
    assert nb_uvb["better_when"]
    assert set(nb_uvb["sources"]) == {"S18", "S25"}
    assert alternatives["microneedling"]["sources"] == {}


@pytest.mark.parametrize(
    "path", ["/therapies", "/therapies/autologous_fibroblast_injection", "/alternatives"]
)
def test_it_wants_authentication(api_as, path):
    response = api_as(None).get(f"{BASE}{path}")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required.", "errors": []}


@pytest.mark.parametrize(
    "path", ["/therapies", "/therapies/autologous_fibroblast_injection", "/alternatives"]
)
def test_a_portal_user_gets_not_found_and_no_data(api_as, pat, path):
    response = api_as(pat).get(f"{BASE}{path}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


def test_a_session_works_like_a_token(client, lab_li):
    client.force_login(lab_li)

    response = client.get(f"{BASE}/therapies/melanocyte_keratinocyte_transplant")

    assert response.status_code == 200
    assert response.json()["sessions"]["count"]["unverified"] is True


def test_an_unknown_therapy_is_not_found(api_as, dr_ada):
    response = api_as(dr_ada).get(f"{BASE}/therapies/no_such_therapy")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": []}


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {f"{BASE}/therapies", f"{BASE}/therapies/{{code}}", f"{BASE}/alternatives"} <= set(paths)
