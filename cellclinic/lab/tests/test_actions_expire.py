"""Taking products past their expiry out of use through their page: it lists the products in the reader's
care that are past their expiry, one button marks them all expired (a custody event and an audit event
each), and the lab's start page and its list of products expiring soon offer the page when there are any.
Lab technicians and QA reviewers take their lab's, practitioners and nurses those received at their
clinic; another lab's or clinic's products are neither listed nor touched."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cellclinic.accounts.models import Site
from cellclinic.audit.models import AuditEvent
from cellclinic.core.pagination import PAGE_SIZE
from cellclinic.lab import available, services, states
from cellclinic.lab.models import CustodyEvent, Product
from cellclinic.lab.tests import rows
from cellclinic.lab.tests.actions_pages import NOT_NOW, href_of, offered, page, submit
from cellclinic.lab.tests.builders import lab_counts, statuses
from conftest import make_user

pytestmark = pytest.mark.django_db

PATH = "/lab/expired/"
EXPIRING_SOON = "/lab/waiting/?item=expiring-soon"
HOURS_AGO = lambda hours: -timedelta(hours=hours)  # noqa: E731


@pytest.fixture
def world(lab, clinic_b, patient_a, patient_b, dr_ada, dr_cy, lab_li):
    """The lab's products past their expiry wherever they stand, those that are not to be taken out of
    use (one still in date, one held in quarantine, one marked expired already), and another lab's."""
    ours = rows.own_product(patient_a, dr_ada, lab_li, expires_in=HOURS_AGO(2))  # at North Clinic
    made = ours.batch
    found = {
        "ours": ours,
        "released": rows.product(made, status=states.PRODUCT_RELEASED, expires_in=HOURS_AGO(5)),
        "shipped": rows.product(made, status=states.PRODUCT_SHIPPED, expires_in=HOURS_AGO(1)),
        "theirs": rows.own_product(patient_b, dr_cy, lab_li, expires_in=HOURS_AGO(3)),  # at Riverside
        "in_date": rows.product(made, expires_in=timedelta(hours=6)),
        "held": rows.product(made, status=states.PRODUCT_QUARANTINED, expires_in=HOURS_AGO(4)),
        "gone": rows.product(made, status=states.PRODUCT_EXPIRED, expires_in=HOURS_AGO(30)),
    }
    east = Site.objects.create(code="ELAB", name="East Lab", kind="lab")
    east_clinic = Site.objects.create(code="ECL", name="East Clinic", kind="clinic", lab=east)
    elsie = make_user("elsie", first="Elsie", last="Park", roles=[(east, "lab_technician")])
    found["east"] = rows.donor_product(east, elsie, status=states.PRODUCT_RELEASED, expires_in=HOURS_AGO(2))
    found["east_clinic"] = rows.donor_product(east, elsie, site=east_clinic, expires_in=HOURS_AGO(2))
    found["elsie"] = elsie
    return found


# What each reader takes out of use: lab staff their lab's, the clinic what it has received.
TAKES = {
    "lab_li": ("released", "theirs", "ours", "shipped"),
    "qa_quinn": ("released", "theirs", "ours", "shipped"),
    "dr_ada": ("ours",),
    "nurse_bo": ("ours",),
    "dr_cy": ("theirs",),
}


def listed(body: str) -> list[str]:
    """The DINs the page lists, in order."""
    area = re.search(r'<section class="card" aria-labelledby="h-past-expiry">(.*?)</section>', body, re.S)
    return re.findall(r'<a href="/lab/products/(\w+)/">', area.group(1)) if area else []


def _products(world) -> list[Product]:
    return [record for record in world.values() if isinstance(record, Product)]


def test_the_page_lists_each_product_past_its_expiry_with_where_it_stands(client, world, lab_li):
    body = page(client, lab_li, PATH)
    expected = [world[name] for name in TAKES["lab_li"]]  # the longest expired first
    assert listed(body) == [product.din for product in expected]
    assert "<caption" in body and "4 products</caption>" in body
    for product in expected:
        # The DIN as the product's page prints it, the check character boxed.
        assert f'<span class="visually-hidden">check character </span>{product.din_check}</span>' in body
        when = timezone.localtime(product.expires_at)
        assert f'<time datetime="{when.isoformat()}">{when:%-d %b %Y, %H:%M}</time>' in body
    cells = re.findall(r'<td data-label="(?:Status|Where)">([^<]*)</td>', body)
    assert cells == [
        "Released",
        "Central Cell Lab",
        "Received at the clinic",
        "Riverside Clinic",
        "Received at the clinic",
        "North Clinic",
        "On its way to the clinic",
        "With the courier, for North Clinic",
    ]
    assert NOT_NOW not in body and ">Take them out of use</button>" in body
    assert 'type="password"' not in body
    assert "It can then only be disposed of." in body


@pytest.mark.parametrize("persona", list(TAKES))
def test_the_page_lists_exactly_what_the_button_then_takes_out_of_use(client, request, world, persona):
    user = request.getfixturevalue(persona)
    takes = [world[name] for name in TAKES[persona]]
    assert listed(page(client, user, PATH)) == [product.din for product in takes]
    was = {p.pk: (p.status, p.custody.count()) for p in _products(world)}
    response = submit(client, user, PATH, {})
    assert response["Location"] == "/lab/"
    for product in _products(world):
        status, events = was[product.pk]
        product.refresh_from_db()
        if product in takes:
            assert (product.status, product.status_reason) == (states.PRODUCT_EXPIRED, "Past its expiry")
            assert product.custody.count() == events + 1
            event = product.custody.latest("id")
            # Where it was: received at the clinic, or still the lab's.
            at = product.site_id if status == states.PRODUCT_RECEIVED else product.lab_id
            assert (event.kind, event.by_id, event.at_site_id) == (CustodyEvent.Kind.EXPIRED, user.pk, at)
        else:
            assert (product.status, product.custody.count()) == (status, events), product.din
    audit = AuditEvent.objects.filter(action="product.expire")
    assert sorted(int(event.object_id) for event in audit) == sorted(p.pk for p in takes)
    assert {event.actor for event in audit} == {user}
    said = {
        1: "1 product past its expiry is marked expired.",
        4: "4 products past their expiry are marked expired.",
    }
    home = client.get("/lab/").content.decode()
    assert said[len(takes)] in home
    assert offered(home) == []  # nothing left to take
    assert available.NOTHING_PAST_EXPIRY in page(client, user, PATH)


def test_products_still_in_date_held_or_expired_already_are_left_alone(client, world, lab_li):
    keep = [world[name] for name in ("in_date", "held", "gone", "east", "east_clinic")]
    before = statuses(*keep)
    submit(client, lab_li, PATH, {})
    assert (
        statuses(*keep)
        == before
        == [
            states.PRODUCT_RECEIVED,
            states.PRODUCT_QUARANTINED,
            states.PRODUCT_EXPIRED,
            states.PRODUCT_RELEASED,
            states.PRODUCT_RECEIVED,
        ]
    )
    assert not CustodyEvent.objects.filter(product__in=keep, kind=CustodyEvent.Kind.EXPIRED).exists()


def test_another_labs_technician_takes_their_own_products_only(client, world):
    elsie = world["elsie"]
    assert listed(page(client, elsie, PATH)) == [world["east"].din, world["east_clinic"].din]
    submit(client, elsie, PATH, {})
    assert statuses(world["east"], world["east_clinic"]) == [states.PRODUCT_EXPIRED] * 2
    assert statuses(*(world[name] for name in TAKES["lab_li"])) == [
        states.PRODUCT_RELEASED,
        states.PRODUCT_RECEIVED,
        states.PRODUCT_RECEIVED,
        states.PRODUCT_SHIPPED,
    ]


def test_more_than_a_page_lists_the_first_and_takes_them_all(client, lab, lab_li):
    lot = rows.donor_lot(lab, lab_li)
    made = rows.batch(lab=lab, creator=lab_li, donor_lot=lot, status=states.BATCH_RELEASED)
    many = [
        rows.product(made, status=states.PRODUCT_RELEASED, expires_in=HOURS_AGO(100 - n))
        for n in range(PAGE_SIZE + 2)
    ]
    body = page(client, lab_li, PATH)
    assert listed(body) == [product.din for product in many[:PAGE_SIZE]]
    total = PAGE_SIZE + 2
    assert f"The {PAGE_SIZE} that expired first, of {total} in all: all {total} are taken out of use." in body
    assert offered(page(client, lab_li, "/lab/")) == [f"Take {total} expired products out of use"]
    response = submit(client, lab_li, PATH, {})
    assert statuses(*many) == [states.PRODUCT_EXPIRED] * total
    assert (
        f"{total} products past their expiry are marked expired."
        in client.get(response["Location"]).content.decode()
    )


# Nothing past its expiry


@pytest.fixture
def in_date(patient_a, dr_ada, lab_li):
    """A product at North Clinic that expires in six hours."""
    return rows.own_product(patient_a, dr_ada, lab_li, expires_in=timedelta(hours=6))


@pytest.mark.parametrize("persona", ["lab_li", "qa_quinn", "dr_ada"])
def test_with_nothing_past_its_expiry_the_page_says_so_and_the_button_changes_nothing(
    client, request, in_date, persona
):
    user = request.getfixturevalue(persona)
    body = page(client, user, PATH)
    assert NOT_NOW in body and available.NOTHING_PAST_EXPIRY in body
    assert 'name="csrfmiddlewaretoken"' not in body.split('<main id="main"', 1)[1] and listed(body) == []
    before = lab_counts()
    response = submit(client, user, PATH, {}, status=422)
    assert available.NOTHING_PAST_EXPIRY in response.content.decode()
    assert lab_counts() == before and statuses(in_date) == [states.PRODUCT_RECEIVED]
    assert offered(page(client, user, "/lab/")) == []


def test_a_product_is_taken_out_of_use_once_it_is_past_its_expiry(client, in_date, lab_li):
    Product.objects.filter(pk=in_date.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert offered(page(client, lab_li, "/lab/")) == ["Take 1 expired product out of use"]
    assert listed(page(client, lab_li, PATH)) == [in_date.din]
    submit(client, lab_li, PATH, {})
    assert "1 product past its expiry is marked expired." in client.get("/lab/").content.decode()
    assert statuses(in_date) == [states.PRODUCT_EXPIRED]


# Who


def test_a_clinic_admin_is_told_who_takes_products_out_of_use(client, world, admin_al):
    assert services.CANNOT_EXPIRE in page(client, admin_al, PATH, status=403)
    before = lab_counts()
    response = submit(client, admin_al, PATH, {}, status=403)
    assert services.CANNOT_EXPIRE in response.content.decode()
    assert lab_counts() == before
    assert offered(page(client, admin_al, "/lab/")) == []


def test_a_patient_finds_no_such_page(client, world, pat):
    page(client, pat, PATH, status=404)
    before = lab_counts()
    submit(client, pat, PATH, {}, status=404)
    assert lab_counts() == before


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    before = lab_counts()
    for response in (client.get(PATH), client.post(PATH, {})):
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/?next=")
    assert lab_counts() == before


# Where it is offered


def test_the_lab_and_its_list_of_products_expiring_soon_offer_the_page(client, world, lab_li, dr_ada):
    label = "Take 4 expired products out of use"
    assert href_of(page(client, lab_li, "/lab/"), label) == PATH
    assert href_of(page(client, lab_li, EXPIRING_SOON), label) == PATH
    assert offered(page(client, lab_li, "/lab/waiting/?item=to-ship")) == []
    assert href_of(page(client, dr_ada, "/lab/"), "Take 1 expired product out of use") == PATH


# Queries


def test_the_page_reads_a_pinned_number_of_queries(client, world, lab_li, dr_ada, django_assert_num_queries):
    for user, expected in (
        # The session, the user and the roles (3); the products past their expiry with their total, in one
        # query; the Lab link's count: the clinics the lab serves, then one count each of specimens,
        # batches and products (4); the unread notifications.
        (lab_li, 3 + 1 + 4 + 1),
        # The session, the user and the roles (3); the products past their expiry with their total; the
        # new requests counted for the Enquiries link; the unread notifications.
        (dr_ada, 3 + 1 + 1 + 1),
    ):
        client.force_login(user)
        client.get(PATH)
        with django_assert_num_queries(expected):
            assert client.get(PATH).status_code == 200


def test_the_list_of_products_expiring_soon_reads_a_pinned_number_of_queries(
    client, world, lab_li, django_assert_num_queries
):
    client.force_login(lab_li)
    client.get(EXPIRING_SOON)
    # The session, the user and the roles (3); the clinics the lab serves (1); the item's count with the
    # Lab link's, one count of products (1); its rows (1); the access log's insert (1); the Lab link's
    # other counts, of specimens and batches (2); the products past their expiry, counted for the offer
    # (1); the unread notifications.
    with django_assert_num_queries(3 + 1 + 1 + 1 + 1 + 2 + 1 + 1):
        assert client.get(EXPIRING_SOON).status_code == 200
