"""The pure geometry of the plan timeline: the scale with shortened gaps, axis ticks, rows and status."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cellclinic.treatment.timeline import (
    GAP_THRESHOLD_DAYS,
    MONTHS,
    SHORTENED_DAYS,
    Status,
    lanes,
    make_scale,
    month_ticks,
    patient_label,
    status_words,
    step_status,
)

DAY = date(2026, 12, 1)
LEFT, RIGHT = 20.0, 960.0


def d(days: int) -> date:
    return DAY + timedelta(days=days)


dates = st.lists(st.integers(min_value=-800, max_value=800).map(d), min_size=1, max_size=30)


# The scale


def test_a_plan_without_long_gaps_is_drawn_to_scale():
    scale = make_scale([d(0), d(10), d(40)], left=0, right=400)
    assert [scale.x(d(n)) for n in (0, 5, 10, 25, 40)] == [0, 50, 100, 250, 400]
    assert scale.breaks == ()


def test_a_long_gap_is_shortened_with_a_break_mark_in_its_middle():
    # Two weeks of treatment, then a follow-up a year later: the year is drawn as 21 days.
    scale = make_scale([d(0), d(14), d(379)], left=0, right=350)
    assert scale.x(d(14)) == pytest.approx(140)  # the first two weeks keep 40% of the width
    assert scale.x(d(379)) == 350
    assert scale.breaks == (pytest.approx(245),)
    assert scale.in_break(d(100)) and not scale.in_break(d(14)) and not scale.in_break(d(379))


def test_the_gap_at_the_threshold_is_not_shortened_and_one_day_more_is():
    at = make_scale([d(0), d(GAP_THRESHOLD_DAYS)], left=0, right=100)
    over = make_scale([d(0), d(GAP_THRESHOLD_DAYS + 1)], left=0, right=100)
    assert at.breaks == () and len(over.breaks) == 1


def test_a_single_date_sits_at_the_left_edge():
    scale = make_scale([d(3)], left=LEFT, right=RIGHT)
    assert scale.x(d(3)) == LEFT


def test_days_outside_the_scale_are_held_at_its_ends():
    scale = make_scale([d(0), d(10)], left=LEFT, right=RIGHT)
    assert scale.x(d(-50)) == LEFT and scale.x(d(50)) == RIGHT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"left": 0, "right": 10, "threshold": 10, "shortened": 11}, "shortened"),
        ({"left": 0, "right": 10, "threshold": 10, "shortened": 0}, "shortened"),
        ({"left": 10, "right": 10}, "left"),
    ],
)
def test_a_scale_refuses_settings_that_would_not_draw(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_scale([d(0), d(100)], **kwargs)


def test_a_scale_needs_a_date():
    with pytest.raises(ValueError, match="at least one date"):
        make_scale([], left=0, right=1)


@given(dates)
def test_every_date_lies_within_the_drawing_in_order(days):
    scale = make_scale(days, left=LEFT, right=RIGHT)
    ordered = sorted(set(days))
    xs = [scale.x(day) for day in ordered]
    assert all(LEFT <= x <= RIGHT for x in xs)
    assert xs[0] == LEFT
    # Shortened gaps keep the order: distinct dates never meet or cross.
    assert all(a < b for a, b in zip(xs, xs[1:], strict=False))


@given(dates, st.integers(min_value=-1000, max_value=1000))
def test_every_day_between_is_placed_monotonically(days, offset):
    scale = make_scale(days, left=LEFT, right=RIGHT)
    day = d(offset)
    assert LEFT <= scale.x(day) <= RIGHT
    assert scale.x(day) <= scale.x(day + timedelta(days=1))


@given(dates)
def test_shortening_never_widens_a_gap_and_marks_every_long_one(days):
    scale = make_scale(days, left=LEFT, right=RIGHT)
    long_gaps = [s for s in scale.segments if (s.end - s.start).days > GAP_THRESHOLD_DAYS]
    assert len(scale.breaks) == len(long_gaps)
    unit = (
        min((s.x1 - s.x0) / (s.end - s.start).days for s in scale.segments if not s.shortened)
        if any(not s.shortened for s in scale.segments)
        else None
    )
    for segment in long_gaps:
        assert segment.shortened and segment.x0 < scale.breaks[long_gaps.index(segment)] < segment.x1
        if unit is not None:
            assert segment.x1 - segment.x0 == pytest.approx(SHORTENED_DAYS * unit)


@given(dates, st.integers(min_value=-2000, max_value=2000))
def test_today_is_on_the_drawing_before_during_or_after_the_plan(days, offset):
    today = d(offset)
    scale = make_scale([*days, today], left=LEFT, right=RIGHT)
    x = scale.x(today)
    assert LEFT <= x <= RIGHT
    if today < min(days):
        assert x == LEFT and all(scale.x(day) > x for day in days)
    elif today > max(days):
        assert x == RIGHT and all(scale.x(day) < x for day in days)
    else:
        assert scale.x(min(days)) <= x <= scale.x(max(days))


# Ticks


def test_month_ticks_carry_the_year_at_the_first_and_at_january():
    weekly = [date(2026, 11, 20) + timedelta(weeks=n) for n in range(16)]
    scale = make_scale(weekly, left=0, right=1000)
    ticks = month_ticks(scale, min_gap=10)
    assert [(t.label, t.year) for t in ticks] == [
        ("Dec", 2026),
        ("Jan", 2027),
        ("Feb", None),
        ("Mar", None),
    ]


def test_no_tick_falls_inside_a_shortened_gap_and_its_far_side_is_dated():
    scale = make_scale([date(2026, 12, 1), date(2026, 12, 20), date(2027, 12, 14)], left=0, right=1000)
    ticks = month_ticks(scale, min_gap=1)
    assert [(t.day, t.label, t.year) for t in ticks] == [
        (date(2026, 12, 1), "Dec", 2026),
        (date(2027, 12, 14), "14 Dec", 2027),
    ]


def test_a_long_label_pushes_the_next_tick_along():
    scale = make_scale(
        [date(2026, 12, 1), date(2026, 12, 20), date(2027, 4, 19), date(2027, 6, 1)], left=0, right=1000
    )
    labels = [t.label for t in month_ticks(scale, min_gap=10)]
    assert labels[:3] == ["Dec", "19 Apr", "May"]
    spaced = [t.label for t in month_ticks(scale, min_gap=10, char_width=60)]
    assert spaced[:2] == ["Dec", "19 Apr"] and "May" not in spaced


def test_a_short_plan_is_labelled_by_week():
    scale = make_scale([date(2026, 12, 2), date(2026, 12, 20)], left=0, right=1000)
    ticks = month_ticks(scale, min_gap=1)
    assert [t.label for t in ticks] == ["7 Dec", "14 Dec"]
    assert ticks[0].year == 2026


def test_crowded_ticks_are_thinned_and_labels_keep_room_at_the_right_edge():
    scale = make_scale([date(2026, 1, 1), date(2026, 12, 31)], left=0, right=100)
    ticks = month_ticks(scale, min_gap=25, room=10)
    assert all(b.x - a.x >= 25 for a, b in zip(ticks, ticks[1:], strict=False))
    assert all(t.x <= 90 for t in ticks)
    assert ticks[0].day == date(2026, 1, 1)


@given(
    dates,
    st.floats(min_value=0, max_value=200),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=12),
)
def test_ticks_are_monotonic_spaced_and_inside_the_drawing(days, gap, room, char_width):
    scale = make_scale(days, left=LEFT, right=RIGHT)
    ticks = month_ticks(scale, min_gap=gap, room=room, char_width=char_width)
    assert all(a.day < b.day and b.x - a.x >= gap for a, b in zip(ticks, ticks[1:], strict=False))
    # Each label ends before the next begins.
    assert all(b.x - a.x >= len(a.label) * char_width for a, b in zip(ticks, ticks[1:], strict=False))
    assert all(t.label.split()[-1] in MONTHS for t in ticks)
    assert all(LEFT <= t.x <= RIGHT - room and not scale.in_break(t.day) for t in ticks)
    assert all(scale.first <= t.day <= scale.last for t in ticks)
    if ticks:
        assert ticks[0].year == ticks[0].day.year
    assert all(
        (b.year is not None) == (a.day.year != b.day.year) for a, b in zip(ticks, ticks[1:], strict=False)
    )


# Rows of marks


def test_marks_too_close_go_on_a_new_row_and_reuse_a_free_one():
    assert lanes([0, 5, 30, 31, 100], min_gap=20) == [0, 1, 0, 1, 0]
    assert lanes([], min_gap=20) == []
    assert lanes([10, 10, 10], min_gap=1) == [0, 1, 2]


@given(st.lists(st.floats(min_value=0, max_value=1000), max_size=40), st.floats(min_value=0.5, max_value=50))
def test_marks_on_one_row_never_overlap(xs, gap):
    rows = lanes(xs, gap)
    assert len(rows) == len(xs)
    for row in set(rows):
        on_row = sorted(x for x, r in zip(xs, rows, strict=True) if r == row)
        assert all(b - a >= gap for a, b in zip(on_row, on_row[1:], strict=False))
    # Rows are used from the top: no row is skipped.
    assert set(rows) == set(range(len(set(rows))))


# Status


def status(start: int, end: int, today: int, **facts) -> Status:
    return step_status(window_start=d(start), window_end=d(end), today=d(today), **facts)


@pytest.mark.parametrize(
    ("start", "end", "today", "facts", "expected"),
    [
        (5, 5, 0, {}, Status.UPCOMING),
        (5, 9, 5, {}, Status.DUE),
        (5, 9, 9, {}, Status.DUE),
        (5, 9, 10, {}, Status.PAST),  # nothing records this step: its date passed, no more is claimed
        (5, 9, 10, {"done": False}, Status.OVERDUE),
        (5, 9, 10, {"done": True}, Status.DONE),
        (5, 9, 0, {"booked": True}, Status.BOOKED),
        (5, 9, 7, {"booked": True}, Status.BOOKED),
        (5, 9, 10, {"booked": True}, Status.PAST),
        (5, 9, 20, {"stopped_on": d(9)}, Status.CANCELLED),
        (5, 9, 20, {"stopped_on": d(10)}, Status.PAST),
        (5, 9, 0, {"stopped_on": d(0)}, Status.CANCELLED),
        (5, 9, 20, {"stopped_on": d(3), "done": True}, Status.DONE),
    ],
)
def test_the_status_of_a_step(start, end, today, facts, expected):
    assert status(start, end, today, **facts) == expected


@given(
    st.integers(-100, 100),
    st.integers(0, 100),
    st.integers(-300, 300),
    st.none() | st.integers(-300, 300),
    st.sampled_from([None, True, False]),
    st.booleans(),
)
def test_every_status_has_words_for_staff_and_patient(start, length, today, stopped, done, booked):
    stopped_on = None if stopped is None else d(stopped)
    result = status(start, start + length, today, stopped_on=stopped_on, done=done, booked=booked)
    assert status_words(result) and status_words(result, for_patient=True)
    if stopped_on is None:
        assert result != Status.CANCELLED
    if done is not True:
        assert result != Status.DONE


# Labels


@pytest.mark.parametrize(
    ("kind", "label", "expected"),
    [
        ("harvest", "Harvest", "Harvest"),
        ("processing", "Cells prepared", "Your cells are prepared"),
        ("processing", "Cells grown in the lab", "Your cells are grown in the lab"),
        ("processing", "Something new", "Your cells are prepared"),
        ("product_ready", "Product expected", "Your cells should be ready"),
        ("session", "Treatment session 1 of 3", "Treatment session 1 of 3"),
        ("follow_up", "Efficacy assessment", "Efficacy assessment"),
    ],
)
def test_the_lab_steps_are_named_for_the_patient(kind, label, expected):
    assert patient_label(kind, label) == expected
