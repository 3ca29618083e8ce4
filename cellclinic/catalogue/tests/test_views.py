"""The catalogue pages: staff read them, portal users get 404, anonymous visitors sign in first."""

import pytest
from django.urls import reverse

from cellclinic.catalogue.tests.helpers import changed, write_therapy

LIST_URL = "/catalogue/"
FIBROBLAST_URL = "/catalogue/autologous_fibroblast_injection/"


def test_the_url_names_resolve():
    assert reverse("catalogue:list") == LIST_URL
    assert reverse("catalogue:detail", args=["autologous_fibroblast_injection"]) == FIBROBLAST_URL


@pytest.mark.parametrize("persona", ["dr_ada", "lab_li"])
def test_it_lists_therapies_and_alternatives_for_staff(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav_active"] == "catalogue"
    body = response.content.decode()
    assert "Autologous cultured fibroblast injection" in body
    assert "Melanocyte-keratinocyte transplant (MKTP)" in body
    assert "11–22 weeks" in body
    assert "15–30 minutes" in body
    assert "Hyaluronic acid dermal filler" in body
    assert "Narrowband UVB phototherapy" in body
    assert 'href="/catalogue/autologous_skin_cell_suspension/"' in body


def test_the_list_page_runs_a_fixed_number_of_queries(client, dr_ada, django_assert_num_queries):
    client.force_login(dr_ada)

    # 1. the session, 2. the user, 3. the user's roles (read once, cached on the user).
    with django_assert_num_queries(3):
        response = client.get(LIST_URL)

    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["dr_ada", "lab_li"])
def test_it_shows_one_therapy_in_full_for_staff(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(FIBROBLAST_URL)

    assert response.status_code == 200
    assert response.context["nav_active"] == "catalogue"
    body = response.content.decode()
    for heading in (
        "Indications",
        "Contraindications",
        "Cautions",
        "Harvest",
        "Processing",
        "Release criteria",
        "Shelf life and storage",
        "Delivery",
        "Sessions",
        "Aftercare",
        "Follow-up schedule",
        "Outcome scales",
        "Published evidence, for setting expectations",
        "Alternatives to discuss",
        "Sources",
    ):
        assert f">{heading}</h" in body, heading
    assert "24 hours after formulation" in body
    assert "≥ 70%" in body
    assert "1–2 ×10⁷ cells/mL" in body
    assert "30% vs 8% with placebo" in body
    assert "Primary endpoint" in body
    assert 'id="source-S9"' in body and 'href="#source-S9"' in body
    assert "Hyaluronic acid dermal filler" in body
    assert "Narrowband UVB phototherapy" not in body
    assert ">Areas</th>" in body
    assert "<td>Face</td>" in body


def test_every_shipped_therapy_page_renders(client, dr_ada):
    from cellclinic.catalogue.registry import get_catalogue

    client.force_login(dr_ada)

    for code in get_catalogue().therapies:
        response = client.get(reverse("catalogue:detail", args=[code]))
        assert response.status_code == 200, code


def test_it_marks_unverified_numbers_and_gaps(client, dr_ada):
    client.force_login(dr_ada)

    verified = client.get(FIBROBLAST_URL).content.decode()
    mktp = client.get("/catalogue/melanocyte_keratinocyte_transplant/").content.decode()

    assert "badge-unverified" not in verified
    assert "Not confirmed in a source" in mktp
    assert "Usually one procedure; no source confirms it." in mktp
    assert mktp.count('class="badge badge-unverified"') >= 2


def test_it_marks_an_unverified_figure_from_a_clinic_file(client, dr_ada, settings, tmp_path):
    write_therapy(
        tmp_path,
        changed(
            '{ min = 11, max = 22, unit = "weeks", source = "S1" }',
            '{ min = 11, max = 22, unit = "weeks", unverified = true }',
        ),
    )
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]
    client.force_login(dr_ada)

    body = client.get("/catalogue/test_therapy/").content.decode()

    duration_row = body.split("<dt>Duration</dt>")[1].split("</dd>")[0]
    assert "11–22 weeks" in duration_row
    assert "badge-unverified" in duration_row


def test_an_unknown_therapy_is_not_found(client, dr_ada):
    client.force_login(dr_ada)

    assert client.get("/catalogue/no_such_therapy/").status_code == 404


@pytest.mark.parametrize("url", [LIST_URL, FIBROBLAST_URL])
def test_a_portal_user_gets_not_found(client, pat, url):
    client.force_login(pat)

    response = client.get(url)

    assert response.status_code == 404
    assert b"fibroblast" not in response.content


@pytest.mark.parametrize("url", [LIST_URL, FIBROBLAST_URL])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
