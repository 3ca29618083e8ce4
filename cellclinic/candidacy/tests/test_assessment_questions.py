"""The public self-assessment asks only the questions that apply, and words every problem the same way."""

import html
import re

import pytest

from cellclinic.audit.models import AuditEvent
from cellclinic.candidacy.forms import AssessmentForm, EnquiryForm
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.services import get_ruleset
from cellclinic.candidacy.tests.test_public_pages import ASSESS, VALID, request_data
from cellclinic.catalogue.vocabulary import INDICATIONS
from cellclinic.core.tests.test_limits import send

pytestmark = pytest.mark.django_db
RULES = get_ruleset()
QUESTIONS = "/assess/questions/"
CONDITION_KEYS = {question.key for question in RULES.conditions}
# Everything but the condition questions: the skin, health and hopes, all answered.
GENERAL = {key: value for key, value in VALID.items() if key not in CONDITION_KEYS}
STABLE = "If you have vitiligo: for how many months has it been stable?"
INJURY = "How many months ago did the injury, burn or operation happen? (0 if less than a month)"
OPEN = "Is the skin still open (a wound or burn that has not healed)?"


def labels_of(questions) -> set[str]:
    return {question.question for question in questions}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# The form -------------------------------------------------------------------------------------------


def test_questions_of_unchosen_concerns_are_not_required_and_ignored_if_posted():
    form = AssessmentForm(
        {**VALID, "wound_open": "yes", "months_since_injury": "-5", "weeks_of_wound_care": "lots"}
    )

    assert form.is_valid(), form.errors
    assert set(form.answers()["condition"]) == {
        "patches_diagnosed",
        "vitiligo_stable_months",
        "vitiligo_treatments_tried",
    }
    assert "wound_open" not in form.fields and "months_since_injury" not in form.fields


@pytest.mark.parametrize("concern", list(INDICATIONS))
def test_every_question_of_a_chosen_concern_is_required(concern):
    form = AssessmentForm({**GENERAL, "concerns": [concern]})

    applicable = RULES.conditions_for([concern])
    assert form.is_valid() is not applicable
    assert set(form.errors) == {question.key for question in applicable}
    for question in applicable:
        if question.kind == "yes_no":
            expected = f"Answer the question “{question.question}” with yes, no or not sure."
        else:
            expected = (
                f"Enter the number of {question.kind} for “{question.question}”, or tick “I am not sure”."
            )
        assert form.errors[question.key] == [expected]


def test_not_sure_is_an_answer_and_reaches_the_engine_as_not_answered():
    form = AssessmentForm(
        {
            **GENERAL,
            "concerns": ["scar", "vitiligo"],
            "patches_diagnosed": "not_sure",
            "vitiligo_stable_months_not_sure": "on",
            "vitiligo_treatments_tried": "no",
            "wound_open": "no",
            "months_since_injury": "30",
        }
    )

    assert form.is_valid(), form.errors
    assert form.answers()["condition"] == {
        "patches_diagnosed": None,
        "vitiligo_stable_months": None,
        "vitiligo_treatments_tried": False,
        "wound_open": False,
        "months_since_injury": 30,
    }


def test_a_question_that_applies_to_two_chosen_concerns_is_asked_once():
    form = AssessmentForm(initial={"concerns": ["burn", "scar", "wound"]})

    keys = [field.name for group in form.condition_groups for field, _ in group["questions"]]
    assert keys.count("wound_open") == 1
    assert [group["heading"] for group in form.condition_groups] == ["About your burn, scarring and wound"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"concerns": []}, "concerns", "Choose at least one concern."),
        ({"concerns": ["tattoo"]}, "concerns", "Choose each concern from the list."),
        ({"area": ""}, "area", "Choose where on your body you would like treatment."),
        ({"area": "elbow"}, "area", "Choose where on your body from the list."),
        ({"age": ""}, "age", "Enter your age in whole years."),
        ({"age": "thirty"}, "age", "Enter your age in whole years."),
        ({"age": "-1"}, "age", "Enter your age in whole years, from 0 to 120."),
        ({"age": "121"}, "age", "Enter your age in whole years, from 0 to 120."),
        ({"expectation": ""}, "expectation", "Choose what you are hoping for."),
        (
            {"health_cold_sores": ""},
            "health_cold_sores",
            "Answer the question “Do you get cold sores?” with yes, no or not sure.",
        ),
        (
            {"health_cold_sores": "maybe"},
            "health_cold_sores",
            "Answer the question “Do you get cold sores?” with yes, no or not sure.",
        ),
        (
            {"vitiligo_stable_months": ""},
            "vitiligo_stable_months",
            f"Enter the number of months for “{STABLE}”, or tick “I am not sure”.",
        ),
        (
            {"vitiligo_stable_months": "eighteen"},
            "vitiligo_stable_months",
            f"Enter a whole number of months, from 0 to 1200, for “{STABLE}”.",
        ),
        (
            {"vitiligo_stable_months": "1201"},
            "vitiligo_stable_months",
            f"Enter a whole number of months, from 0 to 1200, for “{STABLE}”.",
        ),
        (
            {"vitiligo_stable_months_not_sure": "on"},
            "vitiligo_stable_months",
            f"Enter the number of months for “{STABLE}” or tick “I am not sure”, not both.",
        ),
    ],
)
def test_each_problem_is_one_sentence_next_to_its_field_and_linked_from_the_summary(
    client, changes, field, message
):
    response = client.post(ASSESS, {**VALID, **changes})

    form = response.context["form"]
    assert response.status_code == 422
    assert form.errors[field] == [message]
    body = page_text(response)
    summary = body[body.index('class="callout callout-danger candidacy-error-summary"') :]
    anchor = {text: href for href, text in re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary)}
    assert anchor[message] == form._anchor(field)
    assert f'id="{anchor[message]}"' in body
    assert '<p class="error"' in body and f">{message}</p>" in body
    assert not Assessment.objects.exists() and not AuditEvent.objects.exists()


def test_a_contradiction_the_service_finds_is_worded_for_the_page(client):
    response = client.post(
        ASSESS, {**GENERAL, "concerns": ["scar"], "wound_open": "no", "months_since_injury": "0"}
    )

    assert response.status_code == 422
    assert response.context["form"].errors["months_since_injury"] == [
        f"Check your answer to “{INJURY}”: a healed wound or burn cannot be less than a month old: give the "
        "months since the injury, or say the skin is still open."
    ]
    assert not Assessment.objects.exists()


# The questions endpoint -----------------------------------------------------------------------------


@pytest.mark.parametrize("concern", list(INDICATIONS))
def test_the_questions_endpoint_renders_the_questions_of_each_concern_and_stores_nothing(client, concern):
    response = client.post(QUESTIONS, {"concerns": [concern]}, headers={"HX-Request": "true"})

    body = page_text(response)
    asked = labels_of(RULES.conditions_for([concern]))
    assert response.status_code == 200
    assert 'id="condition-questions"' in body and "{#" not in body
    for label in labels_of(RULES.conditions):
        assert (label in body) is (label in asked), label
    status = re.search(r'<p id="condition-questions-status"[^>]*hx-swap-oob="true">([^<]*)</p>', body)
    if asked:
        assert status and status.group(1).startswith("Questions about your ")
    else:
        assert "There are no more questions about" in body
        assert status and status.group(1).startswith("There are no more questions about")
    assert "<form" not in body and "<h1" not in body and "About your health" not in body
    assert not Assessment.objects.exists() and not AuditEvent.objects.exists()


def test_the_questions_endpoint_keeps_the_answers_typed_so_far(client):
    response = client.post(
        QUESTIONS,
        {
            "concerns": ["vitiligo", "scar"],
            "patches_diagnosed": "yes",
            "vitiligo_stable_months": "18",
            "months_since_injury": "",
            "months_since_injury_not_sure": "on",
            "weeks_of_wound_care": "7",
        },
    )

    body = response.content.decode()
    assert re.search(r'<input[^>]*name="patches_diagnosed" value="yes"[^>]*checked', body)
    assert re.search(r'<input[^>]*name="vitiligo_stable_months"[^>]*value="18"', body)
    assert re.search(r'<input[^>]*name="months_since_injury_not_sure"[^>]*checked', body)
    assert "weeks_of_wound_care" not in body  # a question of a concern not chosen
    assert "Answer the question" not in body and 'class="error"' not in body  # nothing judged yet


def test_drawing_the_questions_touches_no_database(client, django_assert_num_queries):
    client.get(QUESTIONS)  # what is read once per process (the rule set) is read before counting

    with django_assert_num_queries(0):
        response = client.post(QUESTIONS, {"concerns": ["burn", "vitiligo"], "wound_open": "yes"})

    assert response.status_code == 200


def test_with_no_concern_the_endpoint_says_where_the_questions_will_appear(client):
    body = page_text(client.post(QUESTIONS, {}))

    assert "When you choose what you would like treated, a few questions about it appear here." in body
    assert "<fieldset" not in body


@pytest.mark.parametrize(
    "data",
    [
        {"concerns": ["x" * 10_000]},
        {"concerns": ["vitiligo"] * 250},
        {"concerns": "vitiligo", "age": "9" * 5_000, "vitiligo_stable_months": "1" * 5_000},
        {"concerns": ["vitiligo"], "patches_diagnosed": "<script>", "area": "\x00"},
        {"\ufffe": "\u202e", "concerns": ["burn\x00"]},
    ],
)
def test_odd_input_to_the_endpoint_is_ignored(client, data):
    response = client.post(QUESTIONS, data)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in body and "x" * 100 not in body and "9" * 100 not in body
    assert not Assessment.objects.exists()


def test_a_get_reads_the_concerns_from_the_address(client):
    response = client.get(QUESTIONS, {"concerns": ["wound"], "wound_open": "yes"})

    assert response.status_code == 200
    assert OPEN in page_text(response) and STABLE not in page_text(response)
    assert not Assessment.objects.exists()


def test_too_much_input_or_the_wrong_method_is_refused(client):
    assert client.delete(QUESTIONS).status_code == 405
    assert client.put(QUESTIONS).status_code == 405
    fields = "&".join(f"f{n}=1" for n in range(1_000))
    response = client.post(QUESTIONS, fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    many_in_the_query = client.post(f"{QUESTIONS}?{'q=1&' * 1_000}", {"concerns": ["wound"]})
    assert many_in_the_query.status_code == 400
    long_query = client.post(f"{QUESTIONS}?q={'x' * 5_000}", {"concerns": ["wound"]})
    assert long_query.status_code == 200 and OPEN in page_text(long_query)


def test_a_huge_body_to_the_endpoint_is_refused_before_it_is_read():
    response = send(QUESTIONS)

    assert response.status_code == 413
    assert not Assessment.objects.exists()


def test_the_questions_endpoint_is_rate_limited_apart_from_submissions(client, settings):
    settings.PUBLIC_QUESTIONS_RATE = "2/h"
    assert client.post(QUESTIONS, {"concerns": ["wound"]}).status_code == 200
    assert client.post(ASSESS, {"concerns": ["wound"], "action": "questions"}).status_code == 200

    refused = client.post(QUESTIONS, {"concerns": ["wound"]})

    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert client.post(ASSESS, {"concerns": ["wound"], "action": "questions"}).status_code == 429
    assert client.post(ASSESS, VALID).status_code == 302  # sending the answers is counted on its own


# Without JavaScript ---------------------------------------------------------------------------------


def test_without_javascript_the_questions_appear_after_choosing_and_the_answers_are_kept(client):
    first = page_text(client.get(ASSESS))
    assert "When you choose what you would like treated, a few questions about it appear here." in first
    assert not any(label in first for label in labels_of(RULES.conditions))
    assert (
        '<noscript><p class="form-actions"><button class="btn btn-secondary" type="submit" name="action"'
        in first
    )
    assert 'hx-post="/assess/questions/"' in first and 'hx-target="#condition-questions"' in first

    chosen = {**GENERAL, "concerns": ["vitiligo"], "action": "questions"}
    shown = client.post(ASSESS, chosen)

    body = page_text(shown)
    assert shown.status_code == 200
    assert all(label in body for label in labels_of(RULES.conditions_for(["vitiligo"])))
    assert OPEN not in body
    assert "Some answers need another look" not in body and 'class="error"' not in body
    assert re.search(r'<input[^>]*name="age"[^>]*value="34"', body)
    assert re.search(r'<input[^>]*name="health_cold_sores" value="no"[^>]*checked', body)
    assert not Assessment.objects.exists()

    sent = client.post(ASSESS, VALID)

    assessment = Assessment.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/assess/result/{assessment.public_id}/"
    assert assessment.outcome == "suitable"


def test_sending_before_the_questions_are_shown_asks_them_with_the_answers_kept(client):
    response = client.post(ASSESS, {**GENERAL, "concerns": ["wound"]})

    body = page_text(response)
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {q.key for q in RULES.conditions_for(["wound"])}
    assert OPEN in body and STABLE not in body
    assert "About your wound" in body
    assert not Assessment.objects.exists()


def test_a_healed_scar_is_not_sent_to_a_practitioner_for_questions_it_was_not_asked(client):
    data = {**GENERAL, "concerns": ["scar"], "area": "face", "wound_open": "no", "months_since_injury": "30"}

    response = client.post(ASSESS, data)

    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert assessment.answers["condition"]["weeks_of_wound_care"] is None
    assert not any(r["rule"].startswith("condition_unanswered") for r in assessment.result["reasons"])


# The consultation request ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name."),
        (
            {"name": "Mo\u202eFarah"},
            "name",
            "The answer to “Your name” contains a hidden text-direction "
            "character (U+202A-U+202E or U+2066-U+2069).",
        ),
        ({"name": "M" * 201}, "name", "Enter your name in 200 characters or fewer."),
        (
            {"email": "", "phone": ""},
            "email",
            "Enter an email address or a phone number, so the clinic can reach you.",
        ),
        (
            {"email": "mo at example"},
            "email",
            "Enter an email address in the right form, like name@example.org.",
        ),
        ({"site": ""}, "site", "Choose a clinic."),
        ({"site": "999999"}, "site", "Choose a clinic from the list."),
        (
            {"consent_to_contact": ""},
            "consent_to_contact",
            "Tick the box to agree that the clinic may contact you.",
        ),
    ],
)
def test_a_request_names_each_problem_in_one_sentence_and_sends_nothing(
    client, clinic_a, public_assessment, changes, field, message
):
    before = AuditEvent.objects.count()

    response = client.post(
        f"/assess/result/{public_assessment.public_id}/request/", request_data(clinic_a, **changes)
    )

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    body = page_text(response)
    assert "Your request was not sent" in body
    assert f'<li><a href="#{response.context["form"]._anchor(field)}">{message}</a></li>' in body
    assert not Enquiry.objects.exists() and AuditEvent.objects.count() == before


def test_a_lab_is_not_a_clinic_to_choose(lab, clinic_a):
    form = EnquiryForm(request_data(clinic_a, site=str(lab.pk)))

    assert not form.is_valid()
    assert form.errors["site"] == ["Choose a clinic from the list."]


def test_every_public_message_is_a_sentence():
    forms = [
        AssessmentForm({"concerns": list(INDICATIONS), "age": "x", "vitiligo_stable_months_not_sure": "on"}),
        EnquiryForm({"email": "x"}),
    ]
    for form in forms:
        assert not form.is_valid()
        for messages in form.errors.values():
            for message in messages:
                assert message[0].isupper() and message.endswith("."), message
