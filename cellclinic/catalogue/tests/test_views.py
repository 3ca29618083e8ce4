"""The catalogue pages: staff read them, portal users get 404, anonymous visitors sign in first."""

import re

import pytest
from django.urls import reverse

from cellclinic.catalogue.tests.helpers import changed, write_therapy, write_two_versions
from cellclinic.core import plugs
from cellclinic.demo.builder import at_stage
from cellclinic.treatment.services import plan_create
from cellclinic.treatment.tests.helpers import CULTURED, consented_directly, in_days, pathway_to
from conftest import PASSWORD

LIST_URL = "/catalogue/"
FIBROBLAST_URL = "/catalogue/autologous_fibroblast_injection/"
TEST = "test_therapy"


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


def test_the_list_page_runs_a_fixed_number_of_queries(
    client, dr_ada, patient_a, settings, tmp_path, django_assert_num_queries
):
    """The consent to test_therapy 1.0.0 is written directly: a decision takes the current version."""
    write_two_versions(tmp_path)
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]
    consented_directly(patient_a, dr_ada, therapy_code=TEST, therapy_version="1.0.0")
    at_stage("consent_signed", patient=patient_a, practitioner=dr_ada, password=PASSWORD, therapy=TEST)
    pathway_to("consent_signed", patient_a, dr_ada)
    client.force_login(dr_ada)

    # 1. the session, 2. the user, 3. the user's roles (read once, cached on the user),
    # 4. consents grouped by therapy version, 5. plans grouped by therapy version, 6. new consultation
    # requests and 7. unread notifications, counted on the navigation links.
    with django_assert_num_queries(7):
        response = client.get(LIST_URL)

    assert response.status_code == 200


def test_a_reader_who_sees_no_patients_gets_the_versions_without_counts(
    client, lab_li, django_assert_num_queries
):
    client.force_login(lab_li)

    # 1. the session, 2. the user, 3. the user's roles, 4. the clinics their lab serves, 5.-7. the lab's
    # waiting specimens, batches and products counted for the Lab link, 8. unread notifications on the
    # navigation link: no patient record is counted.
    with django_assert_num_queries(8):
        response = client.get(LIST_URL)

    assert response.context["usage_labels"] == []
    assert ">Protocol versions</h2>" in response.content.decode()


def version_rows(body: str) -> list[list[str]]:
    """The protocol-versions table, each row as the text of its cells."""
    table = body.split('id="h-versions"')[1].split("<tbody>")[1].split("</tbody>")[0]

    def text(cell: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", cell).split())

    return [
        [text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_the_list_page_counts_the_consents_and_plans_made_on_each_version(
    client, dr_ada, dr_cy, patient_a, patient_b, settings, tmp_path
):
    """The consents to earlier versions (1.0.0, 1.0, 0.9) are written directly: a decision takes the
    current version."""
    write_two_versions(tmp_path)
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]
    on_first = consented_directly(patient_a, dr_ada, therapy_code=TEST, therapy_version="1.0.0")
    plan_create(consultation=on_first, actor=dr_ada, harvest_date=in_days(1))
    consented_directly(patient_a, dr_ada, therapy_code=TEST, therapy_version="1.0")
    at_stage("consent_signed", patient=patient_a, practitioner=dr_ada, password=PASSWORD, therapy=TEST)
    consented_directly(patient_a, dr_ada, therapy_version="0.9")
    # Another clinic's records are not counted for this reader.
    at_stage(
        "consent_signed",
        patient=patient_b,
        practitioner=dr_cy,
        password=PASSWORD,
        therapy=TEST,
        indication="scar",
    )
    client.force_login(dr_ada)

    response = client.get(LIST_URL)

    assert response.context["usage_labels"] == ["Consents", "Plans"]
    rows = version_rows(response.content.decode())
    fibroblast = "Autologous cultured fibroblast injection"
    assert [fibroblast, "1.1 Current", f"{CULTURED}.toml", "0", "0"] in rows
    # Newest first; "1.0" as stored and "1.0.0" in the file are one version.
    test_rows = [row for row in rows if row[0] == "Test therapy"]
    assert test_rows == [
        ["Test therapy", "2.0.0 Current", "test_therapy-2.toml", "1", "0"],
        ["Test therapy", "1.0.0", "test_therapy.toml", "2", "1"],
    ]
    # A version records still name but no file holds comes last.
    assert rows[-1] == [fibroblast, "0.9 Not in the catalogue", "—", "1", "0"]
    assert 'href="/catalogue/test_therapy/version/1.0.0/"' in response.content.decode()


def test_consents_and_treatment_register_their_counters():
    counters = plugs.counters_for("therapy_versions_in_use")

    assert [(c.key, c.label) for c in counters] == [("consents", "Consents"), ("treatment", "Plans")]


def test_an_earlier_version_has_its_own_page(client, dr_ada, settings, tmp_path):
    write_two_versions(tmp_path)
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]
    client.force_login(dr_ada)

    older = client.get(reverse("catalogue:version", args=["test_therapy", "1.0.0"]))
    current = client.get(reverse("catalogue:detail", args=["test_therapy"]))

    assert older.status_code == 200 and current.status_code == 200
    older_body, current_body = older.content.decode(), current.content.decode()
    assert "Version 1.0.0" in older_body and "an earlier version of this protocol" in older_body
    assert "Behind the ear" in older_body and "test_therapy.toml" in older_body
    assert "Version 2.0.0" in current_body and "an earlier version" not in current_body
    assert "The inner upper arm" in current_body and "test_therapy-2.toml" in current_body
    assert 'href="/catalogue/test_therapy/version/1.0.0/"' in current_body
    assert client.get("/catalogue/test_therapy/version/3.0.0/").status_code == 404
    assert client.get(f"/catalogue/{CULTURED}/version/0.9/").status_code == 404


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
    assert '<td data-label="Areas">Face</td>' in body


def test_every_shipped_therapy_page_renders(client, dr_ada):
    from cellclinic.catalogue.registry import get_catalogue

    client.force_login(dr_ada)

    for code in get_catalogue().therapies:
        response = client.get(reverse("catalogue:detail", args=[code]))
        assert response.status_code == 200, code


def test_it_marks_unverified_numbers_and_gaps(client, dr_ada):
    client.force_login(dr_ada)

    acne = client.get("/catalogue/autologous_fibroblast_injection_acne_scars/").content.decode()
    mktp = client.get("/catalogue/melanocyte_keratinocyte_transplant/").content.decode()

    # The acne-scar protocol's own figures are all sourced; only a shared step carries a flag.
    before_steps, rest = acne.split('<section class="card" aria-labelledby="h-steps">')
    steps, after_steps = rest.split('<section class="card" aria-labelledby="h-restrictions">')
    assert "badge-unverified" not in before_steps + after_steps
    assert "badge-unverified" in steps
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


@pytest.mark.parametrize("url", [LIST_URL, FIBROBLAST_URL, f"{FIBROBLAST_URL}version/1.1/"])
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


def section(body: str, heading_id: str) -> str:
    """The text of the card whose heading has HEADING_ID, without tags."""
    card = body.split(f'aria-labelledby="{heading_id}"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def test_the_detail_page_shows_each_step_with_its_screening_risks(client, dr_ada):
    client.force_login(dr_ada)

    body = client.get("/catalogue/autologous_skin_cell_suspension/").content.decode()

    steps = section(body, "h-steps")
    assert steps.index("1. Harvest") < steps.index("2. Bed preparation") < steps.index("3. Application")
    assert "Injection" not in steps
    assert "Cold sores (herpes labialis)" in steps and "No source states this for bed preparation" in steps
    assert 'href="#step-source-S13"' in body and 'id="step-source-S13"' in body


def test_the_detail_page_shows_ages_in_months_and_the_maximum_age(client, dr_ada):
    client.force_login(dr_ada)

    suspension = section(
        client.get("/catalogue/autologous_skin_cell_suspension/").content.decode(), "h-indications"
    )
    acne = section(
        client.get("/catalogue/autologous_fibroblast_injection_acne_scars/").content.decode(), "h-indications"
    )

    assert "1 month [S13] [S20]" in suspension and "15 years" in suspension
    assert "18 years [S11]" in acne and "65 years [S11]" in acne


def test_the_detail_page_shows_what_the_label_requires(client, dr_ada):
    client.force_login(dr_ada)

    indications = section(
        client.get("/catalogue/cryopreserved_fibroblast_dermal_substitute/").content.decode(), "h-indications"
    )

    assert "weeks_of_wound_care at least 6" in indications
    assert "tendon_or_bone_exposed no" in indications
    assert "for a diabetic foot ulcer that has had at least 6 weeks of wound care" in indications


def test_the_detail_page_shows_the_study_and_its_registry(client, dr_ada):
    client.force_login(dr_ada)

    acne = client.get("/catalogue/autologous_fibroblast_injection_acne_scars/").content.decode()
    folds = client.get(FIBROBLAST_URL).content.decode()

    assert "NCT00642642" in section(acne, "h-study")
    assert 'aria-labelledby="h-study"' not in folds


def test_the_detail_page_says_when_no_screening_answer_is_exempt(client, dr_ada, settings, tmp_path):
    block = (
        '\n[[exemptions]]\nscreening = "herpes_labialis"\nwhy = "Never given on the face"\nsource = "S1"\n'
    )
    write_therapy(tmp_path, changed("\n[patient]\n", block + "\n[patient]\n"))
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]
    client.force_login(dr_ada)

    shipped = section(client.get(FIBROBLAST_URL).content.decode(), "h-restrictions")
    exempt = section(client.get("/catalogue/test_therapy/").content.decode(), "h-restrictions")

    assert 'None: every "yes" on the screening checklist goes to a practitioner' in shipped
    assert "Cold sores (herpes labialis) Never given on the face [S1]" in exempt


def test_the_detail_page_keeps_what_patients_read_apart(client, dr_ada):
    client.force_login(dr_ada)

    body = client.get("/catalogue/autologous_fibroblast_injection_acne_scars/").content.decode()

    patients = section(body, "h-patient")
    assert "Injections of your own lab-grown skin cells for acne scars" in patients
    assert "dented acne scars on your cheeks" in patients
    assert "43 out of 100 people treated" in patients
    assert "Taking a small piece of your own skin" in patients
    assert "Taking part is your choice" in patients
    # Instructions to the team stay on the staff side.
    assert "can only ever be used for you" not in patients
    assert "Instruction to the team" in section(body, "h-restrictions")
