"""The pure schedule: every shipped therapy file laid out, and the rules every plan keeps."""

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.catalogue.loader import BUILTIN_ALTERNATIVES_FILE, BUILTIN_THERAPY_DIR, catalogue_load
from cellclinic.catalogue.schema import Count, DayWindow, Duration, Sessions
from cellclinic.treatment.schedule import (
    HARVEST_REFUSED,
    HARVEST_REQUIRED,
    VISIT_TOLERANCE_DAYS,
    StepKind,
    lay_out,
    next_index,
    session_count,
    session_interval,
    visit_tolerance,
    what_to_expect,
)

CATALOGUE = catalogue_load([BUILTIN_THERAPY_DIR], [BUILTIN_ALTERNATIVES_FILE])
THERAPIES = CATALOGUE.therapies
CODES = sorted(THERAPIES)
DAY = date(2026, 3, 2)


def _plan(code: str, indication: str | None = None, day: date = DAY):
    therapy = THERAPIES[code]
    harvest = day if therapy.autologous else None
    return lay_out(therapy, indication=indication, start=day, harvest=harvest)


def _summary(steps):
    return [(s.kind.value, s.label, s.due, s.window_start, s.window_end, s.primary_endpoint) for s in steps]


def _kinds(steps):
    return [s.kind.value for s in steps]


def d(days: int) -> date:
    return DAY + timedelta(days=days)


def test_every_shipped_therapy_is_covered_here():
    assert CODES == [
        "autologous_fibroblast_injection",
        "autologous_fibroblast_injection_acne_scars",
        "autologous_skin_cell_suspension",
        "bilayered_living_cell_construct",
        "cryopreserved_fibroblast_dermal_substitute",
        "melanocyte_keratinocyte_transplant",
    ]


def test_cultured_fibroblasts_wait_for_the_product_then_three_sessions_three_to_six_weeks_apart():
    steps = _plan("autologous_fibroblast_injection", "premature_ageing")
    ready, latest = d(77), d(154)  # 11 and 22 weeks of culture
    assert _summary(steps) == [
        ("harvest", "Harvest", DAY, DAY, DAY, False),
        ("processing", "Cells grown in the lab", DAY, DAY, latest, False),
        ("product_ready", "Product expected", ready, ready, latest, False),
        ("session", "Treatment session 1 of 3", ready, ready, latest, False),
        ("aftercare", "Aftercare after session 1", ready, ready, ready + timedelta(days=3), False),
        ("session", "Treatment session 2 of 3", d(98), d(98), d(119), False),
        ("aftercare", "Aftercare after session 2", d(98), d(98), d(101), False),
        ("session", "Treatment session 3 of 3", d(119), d(119), d(140), False),
        ("aftercare", "Aftercare after session 3", d(119), d(119), d(122), False),
        # 6 months (183 days) after the last session, ±14 days.
        ("follow_up", "Efficacy assessment", d(302), d(288), d(316), True),
    ]
    aftercare = steps[4].detail
    assert "Do not wash the treated area for 24 hours" in aftercare
    assert "No rubbing or massage of the treated area for 72 hours" in aftercare
    # An item without a duration ("as needed") is advice, not a dated step.
    assert "Cold compress" not in aftercare
    assert "11–22 weeks" in steps[1].detail


def test_acne_scar_fibroblasts_follow_the_trials_14_plus_or_minus_7_days_between_sessions():
    steps = _plan("autologous_fibroblast_injection_acne_scars", "scar")
    sessions = [s for s in steps if s.kind == StepKind.SESSION]
    # Each session from 7 days after the one before (never earlier) to 21 days after it.
    assert [(s.due, s.window_start, s.window_end) for s in sessions[1:]] == [
        (d(84), d(84), d(98)),
        (d(91), d(91), d(105)),
    ]
    visits = [
        (s.label, s.due, s.window_start, s.window_end, s.primary_endpoint)
        for s in steps
        if s.kind == StepKind.FOLLOW_UP
    ]
    # 1 month (30 days, ±7) and the trial's primary endpoint at 4 months (122 days, ±14) after the last
    # session on day 91.
    assert visits == [
        ("Scar assessment", d(121), d(114), d(128), False),
        ("Primary efficacy assessment", d(213), d(199), d(227), True),
    ]


def test_cell_suspension_is_harvested_prepared_and_sprayed_the_same_day_with_the_burn_schedule():
    steps = _plan("autologous_skin_cell_suspension", "burn")
    assert _summary(steps) == [
        ("harvest", "Harvest", DAY, DAY, DAY, False),
        ("processing", "Cells prepared", DAY, DAY, DAY, False),
        ("session", "Treatment session 1 of 1", DAY, DAY, DAY, False),
        ("follow_up", "Donor-site healing", d(7), d(4), d(10), False),
        (
            "follow_up",
            "Wound closure (at least 95% healed over with new skin, no further surgery)",
            d(28),
            d(21),
            d(35),
            False,
        ),
        ("follow_up", "Closure with a skin graft (meshed autograft)", d(56), d(42), d(70), False),
        ("follow_up", "End of follow-up", d(365), d(335), d(395), False),
    ]
    assert "15–30 minutes" in steps[1].detail
    assert "Closure is confirmed at 2 visits at least 2 weeks apart." in steps[5].detail


def test_cell_suspension_for_vitiligo_follows_the_vitiligo_schedule_only():
    steps = _plan("autologous_skin_cell_suspension", "vitiligo")
    visits = [(s.label, s.due, s.primary_endpoint) for s in steps if s.kind == StepKind.FOLLOW_UP]
    assert visits == [
        ("Repigmentation", d(84), False),
        ("Repigmentation", d(168), True),
        ("Durability of repigmentation", d(364), False),
    ]


def test_a_scoped_schedule_is_left_out_when_the_indication_is_not_known():
    steps = _plan("autologous_skin_cell_suspension", None)
    assert "follow_up" not in _kinds(steps)


def test_the_burn_aftercare_note_has_no_duration_so_it_is_not_a_dated_step():
    assert "aftercare" not in _kinds(_plan("autologous_skin_cell_suspension", "burn"))


def test_melanocyte_transplant_is_one_procedure_on_the_harvest_day_then_follow_up_to_a_year():
    steps = _plan("melanocyte_keratinocyte_transplant", "vitiligo")
    assert [(s.kind.value, s.due) for s in steps] == [
        ("harvest", DAY),
        ("processing", DAY),
        ("session", DAY),
        ("follow_up", d(61)),
        ("follow_up", d(183)),
        ("follow_up", d(365)),
    ]


def test_a_donor_construct_starts_on_the_start_date_with_five_weekly_applications_then_reviews():
    steps = _plan("bilayered_living_cell_construct", "wound")
    assert "harvest" not in _kinds(steps)
    assert "processing" not in _kinds(steps)
    sessions = [(s.label, s.due, s.window_start, s.window_end) for s in steps if s.kind == StepKind.SESSION]
    # Only a minimum interval: due at 7 days, and not earlier.
    assert sessions == [
        (f"Treatment session {n} of 5", d(7 * (n - 1)), d(7 * (n - 1)), d(7 * (n - 1))) for n in range(1, 6)
    ]
    reviews = [(s.label, s.due) for s in steps if s.kind == StepKind.FOLLOW_UP]
    assert reviews == [("Weekly wound review", d(7 * week)) for week in range(5, 12)] + [
        ("Wound closure check", d(84))
    ]


def test_a_donor_dermal_substitute_has_weekly_reviews_from_the_first_application():
    steps = _plan("cryopreserved_fibroblast_dermal_substitute", "wound")
    sessions = [s for s in steps if s.kind == StepKind.SESSION]
    reviews = [s for s in steps if s.kind == StepKind.FOLLOW_UP]
    assert len(sessions) == 8 and sessions[-1].due == d(49)
    assert [r.due for r in reviews] == [d(7 * week) for week in range(1, 13)]
    assert reviews[-1].label == "Final weekly review"
    assert (reviews[0].window_start, reviews[0].window_end) == (d(4), d(10))
    assert (reviews[11].window_start, reviews[11].window_end) == (d(70), d(98))
    aftercare = [s for s in steps if s.kind == StepKind.AFTERCARE]
    assert len(aftercare) == 8
    assert aftercare[0].detail == "Leave the treated ulcer undisturbed for about 72 hours"
    assert aftercare[0].window_end == d(3)


def test_an_autologous_therapy_needs_a_harvest_date():
    therapy = THERAPIES["autologous_fibroblast_injection"]
    with pytest.raises(ValueError, match=re.escape(HARVEST_REQUIRED)):
        lay_out(therapy, indication=None, start=DAY, harvest=None)


def test_a_donor_product_refuses_a_harvest_date():
    therapy = THERAPIES["bilayered_living_cell_construct"]
    with pytest.raises(ValueError, match=re.escape(HARVEST_REFUSED)):
        lay_out(therapy, indication=None, start=DAY, harvest=DAY)


def test_an_autologous_plan_starts_at_the_harvest_whatever_the_start_date():
    therapy = THERAPIES["autologous_skin_cell_suspension"]
    assert lay_out(therapy, indication="burn", start=d(50), harvest=DAY) == _plan(
        "autologous_skin_cell_suspension", "burn"
    )


@pytest.mark.parametrize(
    ("days", "tolerance"),
    [
        (0, 3),
        (7, 3),
        (14, 3),
        (14.5, 7),
        (28, 7),
        (31, 7),
        (32, 14),
        (91, 14),
        (183, 14),
        (183.1, 30),
        (365, 30),
    ],
)
def test_visit_tolerance_follows_the_table(days, tolerance):
    assert visit_tolerance(days) == tolerance


def test_the_tolerance_table_widens_with_distance():
    tolerances = [tolerance for _, tolerance in VISIT_TOLERANCE_DAYS]
    assert tolerances == sorted(tolerances)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (None, (0, 0, 0)),
        (DayWindow(value=14, unverified=True), (14, 14, 14)),
        (DayWindow(min=21, max=42, unverified=True), (21, 21, 42)),
        (DayWindow(min=7, unverified=True), (7, 7, 7)),
        (DayWindow(max=10, unverified=True), (10, 10, 10)),
    ],
)
def test_session_interval_reads_value_else_min(window, expected):
    assert session_interval(window) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (Count(value=3, unverified=True), 3),
        (Count(max=8, unverified=True), 8),
        (Count(min=2, unverified=True), 2),
        (Count(min=2, max=4, unverified=True), 4),
    ],
)
def test_session_count_reads_value_else_max(count, expected):
    therapy = THERAPIES["bilayered_living_cell_construct"]
    changed = therapy.model_copy(update={"sessions": Sessions(count=count)})
    assert session_count(changed) == expected


def test_next_index_is_the_first_date_today_or_later():
    dues = [d(0), d(5), d(10)]
    assert next_index(dues, d(-1)) == 0
    assert next_index(dues, d(5)) == 1
    assert next_index(dues, d(6)) == 2
    assert next_index(dues, d(11)) is None
    assert next_index([], DAY) is None


# Properties, over every shipped therapy and varied sessions, intervals and culture times.


@st.composite
def therapies(draw):
    therapy = THERAPIES[draw(st.sampled_from(CODES))]
    update = {}
    if draw(st.booleans()):
        low = draw(st.integers(min_value=0, max_value=60))
        high = draw(st.one_of(st.none(), st.integers(min_value=low, max_value=120)))
        fixed = draw(st.booleans())
        interval = (
            DayWindow(value=low, unverified=True) if fixed else DayWindow(min=low, max=high, unverified=True)
        )
        count = Count(value=draw(st.integers(min_value=1, max_value=12)), unverified=True)
        update["sessions"] = Sessions(count=count, interval_days=interval)
    if therapy.processing.kind.value == "culture" and draw(st.booleans()):
        low = draw(st.integers(min_value=0, max_value=30))
        high = draw(st.integers(min_value=low, max_value=40))
        unit = draw(st.sampled_from(["days", "weeks", "hours", "months"]))
        duration = Duration(min=low, max=high, unit=unit, unverified=True)
        update["processing"] = therapy.processing.model_copy(update={"duration": duration})
    indication = draw(st.one_of(st.none(), st.sampled_from([c.value for c in therapy.indication_codes])))
    return therapy.model_copy(update=update), indication


days_around = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(therapies(), days_around)
def test_steps_are_in_date_order_and_windows_hold_their_due_dates(case, day):
    therapy, indication = case
    steps = lay_out(therapy, indication=indication, start=day, harvest=day if therapy.autologous else None)
    assert [s.due for s in steps] == sorted(s.due for s in steps)
    for step in steps:
        assert step.window_start <= step.due <= step.window_end


@given(therapies(), days_around)
def test_nothing_comes_before_the_harvest_or_the_start(case, day):
    therapy, indication = case
    steps = lay_out(therapy, indication=indication, start=day, harvest=day if therapy.autologous else None)
    assert min(min(s.due, s.window_start) for s in steps) == day
    if therapy.autologous:
        assert steps[0].kind == StepKind.HARVEST and steps[0].due == day
    else:
        assert StepKind.HARVEST not in {s.kind for s in steps}


@given(therapies(), days_around)
def test_sessions_keep_the_files_count_and_intervals(case, day):
    therapy, indication = case
    steps = lay_out(therapy, indication=indication, start=day, harvest=day if therapy.autologous else None)
    sessions = [s for s in steps if s.kind == StepKind.SESSION]
    assert len(sessions) == session_count(therapy)
    window = therapy.sessions.interval_days
    for before, after in zip(sessions, sessions[1:], strict=False):
        gap = (after.due - before.due).days
        if window.value is not None:
            assert gap == window.value
        else:
            assert window.min is None or gap >= window.min
            assert window.max is None or gap <= window.max
            assert window.min is None or (after.window_start - before.due).days == window.min
            assert window.max is None or (after.window_end - before.due).days == window.max


@given(therapies(), days_around)
def test_follow_up_visits_follow_their_anchor(case, day):
    therapy, indication = case
    steps = lay_out(therapy, indication=indication, start=day, harvest=day if therapy.autologous else None)
    sessions = [s for s in steps if s.kind == StepKind.SESSION]
    visits = [s for s in steps if s.kind == StepKind.FOLLOW_UP]
    expected = []
    for schedule in therapy.follow_up:
        scoped = {c.value for c in schedule.indications}
        if scoped and indication not in scoped:
            continue
        anchor = sessions[0].due if schedule.anchor.value == "first_treatment" else sessions[-1].due
        expected += [
            (v.label, anchor + timedelta(days=round(v.days)), v.primary_endpoint) for v in schedule.visits
        ]
    assert sorted((v.label, v.due, v.primary_endpoint) for v in visits) == sorted(expected)
    for visit in visits:
        assert visit.window_start >= sessions[0].due


@given(therapies(), days_around)
def test_laying_out_is_deterministic(case, day):
    therapy, indication = case
    harvest = day if therapy.autologous else None
    first = lay_out(therapy, indication=indication, start=day, harvest=harvest)
    assert first == lay_out(therapy, indication=indication, start=day, harvest=harvest)


def test_the_schedule_module_has_no_django_imports():
    import cellclinic.treatment.schedule as module

    with open(module.__file__, encoding="utf-8") as file:
        source = file.read()
    assert "django" not in source


def test_what_to_expect_at_a_harvest_names_the_sample_in_plain_words():
    therapy = THERAPIES["autologous_fibroblast_injection"]
    assert what_to_expect(therapy, "harvest", None)[0] == (
        "A small sample is taken: three 3-mm punch biopsies from behind the ear."
    )
    point_of_care = what_to_expect(THERAPIES["autologous_skin_cell_suspension"], "harvest", "burn")
    assert point_of_care[-1] == "Your cells are prepared at the bedside and used the same day."


def test_what_to_expect_while_the_cells_grow_gives_the_culture_time():
    lines = what_to_expect(THERAPIES["autologous_fibroblast_injection"], "product_ready", None)
    assert lines[0] == "Your cells are grown in the lab; this takes 11–22 weeks."


def test_what_to_expect_at_a_session_gives_the_aftercare_for_the_indication():
    therapy = THERAPIES["autologous_fibroblast_injection"]
    lines = what_to_expect(therapy, "session", None)
    # What happens comes from the words written for patients, not the protocol's clinical description.
    assert lines[0] == therapy.patient.how[0].text
    assert therapy.delivery.description not in lines
    assert "Cold compress for 2–3 minutes at a time, as needed" in lines
    assert "Do not wash the treated area for 24 hours" in lines
    burn = what_to_expect(THERAPIES["autologous_skin_cell_suspension"], "session", "burn")
    vitiligo = what_to_expect(THERAPIES["autologous_skin_cell_suspension"], "session", "vitiligo")
    assert "Burn wounds that heal within 21 days scar less" in burn
    assert "Burn wounds that heal within 21 days scar less" not in vitiligo


def test_what_to_expect_at_a_follow_up_visit():
    assert what_to_expect(THERAPIES["autologous_fibroblast_injection"], "follow_up", None) == [
        "A check-up to see how the treated area is healing and how well the treatment has worked."
    ]
    assert what_to_expect(THERAPIES["autologous_fibroblast_injection"], "unknown", None) == []
