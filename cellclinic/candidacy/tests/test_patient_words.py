"""What a member of the public reads after a self-assessment: plain words, no internal markers.

Every shipped therapy is reached by at least one of the answers below; the whole visible page is
checked with the same rule the catalogue loader applies to each patient-facing field.
"""

import re
from html import unescape

import pytest

from cellclinic.candidacy.engine import CONDITION_KEYS, FITNESS_KEY, HEALTH_KEYS
from cellclinic.candidacy.services import assessment_run
from cellclinic.catalogue.plain_words import problems
from cellclinic.catalogue.registry import get_catalogue

pytestmark = pytest.mark.django_db

ALL_CLEAR = {key: key == FITNESS_KEY for key in HEALTH_KEYS}
CASES = {
    "vitiligo": (["vitiligo"], "face", 34, {"patches_diagnosed": True, "vitiligo_stable_months": 18}),
    "vitiligo_tried": (
        ["vitiligo"],
        "arms",
        40,
        {"patches_diagnosed": True, "vitiligo_stable_months": 30, "vitiligo_treatments_tried": True},
    ),
    "light_patches": (["hypopigmentation"], "trunk", 30, {"patches_diagnosed": True}),
    "folds": (["premature_ageing"], "face", 50, {}),
    "acne_scar": (["scar"], "face", 30, {"wound_open": False, "months_since_injury": 60}),
    "fresh_burn": (
        ["burn"],
        "arms",
        30,
        {"wound_open": True, "wound_infected": False, "months_since_injury": 0},
    ),
    "leg_ulcer": (
        ["wound"],
        "legs",
        70,
        {
            "wound_open": True,
            "wound_infected": False,
            "months_since_injury": 5,
            "weeks_of_wound_care": 12,
            "wound_improving": False,
            "tendon_or_bone_exposed": False,
        },
    ),
    "foot_ulcer": (
        ["wound"],
        "feet",
        60,
        {
            "wound_open": True,
            "wound_infected": False,
            "months_since_injury": 4,
            "weeks_of_wound_care": 8,
            "wound_improving": False,
            "tendon_or_bone_exposed": False,
        },
    ),
    "minor": (["scar"], "face", 16, {"wound_open": False, "months_since_injury": 24}),
    "sun_damage": (["sun_damage"], "face", 55, {}),
}
HEALTH_VARIANTS = {
    "all_clear": {},
    "everything_yes": {key: key != FITNESS_KEY for key in HEALTH_KEYS},
    "pregnant": {"pregnant_or_breastfeeding": True},
    "not_sure": {"keloid_history": None, "cold_sores": None},
}


def visible_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", main))


def _run(case: str, variant: str):
    concerns, area, age, condition = CASES[case]
    return assessment_run(
        answers={
            "concerns": concerns,
            "area": area,
            "age": age,
            "health": {**ALL_CLEAR, **HEALTH_VARIANTS[variant]},
            "condition": {**dict.fromkeys(CONDITION_KEYS), **condition},
            "expectation": "gradual_improvement",
        },
        source="public",
    )


@pytest.mark.parametrize("variant", sorted(HEALTH_VARIANTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_result_page_has_no_marker_and_no_unexplained_jargon(client, case, variant):
    assessment = _run(case, variant)

    text = visible_text(client.get(f"/assess/result/{assessment.public_id}/").content.decode())

    found = [problem for sentence in text.split("\n") if sentence.strip() for problem in problems(sentence)]
    assert not found, found


def test_every_shipped_therapy_is_reached_by_the_cases_above():
    reached = set()
    for case in CASES:
        result = _run(case, "all_clear").result
        reached |= {t["code"] for t in result["therapies"]} | {t["code"] for t in result["excluded"]}
    assert reached == set(get_catalogue().therapies)


def test_the_questionnaire_speaks_plainly(client):
    text = visible_text(client.get("/assess/").content.decode())

    assert not problems(text.replace("\n", " ")), problems(text)
