"""The notification list of each person, opening and marking read, and the clinic admin's failed emails."""

import pytest
from django.core import mail

from cellclinic.audit.models import AccessEvent, AuditEvent
from cellclinic.core import plugs
from cellclinic.notifications.models import Notification
from cellclinic.notifications.services import notify
from cellclinic.notifications.tests.conftest import run_due_tasks
from tests.factories import PortalUserFactory

pytestmark = pytest.mark.django_db

LIST = "/notifications/"
FAILED = "/notifications/failed/"


def _tell(user, site, *, kind="consent.signed", template="consents/notifications/signed", link="/patients/"):
    return notify(kind=kind, template=template, site=site, recipient=user, link=link)


def _failed(site, email="noor@example.org"):
    """An email-only notification at SITE whose every attempt failed."""
    notification = notify(
        kind="enquiry.received",
        template="candidacy/notifications/request_received",
        site=site,
        email=email,
        context={"name": "Noor Haddad"},
    )
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.FAILED, attempts=5, last_error="SMTPException: 550 mailbox unavailable"
    )
    return notification


@pytest.fixture
def maya(clinic_a):
    return PortalUserFactory(first_name="Maya", last_name="Thompson")


@pytest.fixture
def omar(clinic_a):
    return PortalUserFactory(first_name="Omar", last_name="Said")


def test_a_patient_sees_only_their_own_notifications_in_plain_words(client, clinic_a, maya, omar):
    _tell(
        maya,
        clinic_a,
        kind="plan.made",
        template="treatment/notifications/plan_made",
        link="/patients/portal/",
    )
    other = notify(
        kind="consent.ready_to_sign",
        template="consents/notifications/ready_to_sign",
        site=clinic_a,
        recipient=omar,
        link="/consents/1/",
    )
    client.force_login(maya)
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your treatment plan at North Clinic is ready" in html
    assert other.subject not in html
    assert "Email:" not in html  # the delivery state is for staff
    assert html.count("<h1") == 1


def test_staff_see_whether_each_email_went_out(client, clinic_a, dr_ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _tell(dr_ada, clinic_a)
    run_due_tasks()
    retrying = _tell(dr_ada, clinic_a, kind="consent.withdrawn", template="consents/notifications/withdrawn")
    Notification.objects.filter(pk=retrying.pk).update(status=Notification.Status.RETRYING, attempts=2)
    client.force_login(dr_ada)
    html = client.get(LIST).content.decode()
    assert "A consent was signed at North Clinic" in html
    assert 'badge-ok">Sent<' in html
    assert 'badge-warn">Retrying<' in html


def test_unread_notifications_are_marked_and_counted_in_the_navigation(client, clinic_a, dr_ada):
    _tell(dr_ada, clinic_a)
    _tell(dr_ada, clinic_a, kind="consent.withdrawn", template="consents/notifications/withdrawn")
    client.force_login(dr_ada)
    response = client.get(LIST)
    html = response.content.decode()
    assert html.count("notification-unread") == 2
    assert ("notifications", "Notifications", LIST, 2) in response.context["nav_links"]
    assert "Mark all as read" in html


def test_opening_a_notification_marks_it_read_and_goes_where_the_thing_is_done(client, clinic_a, dr_ada):
    notification = _tell(dr_ada, clinic_a, link="/patients/")
    client.force_login(dr_ada)
    response = client.get(f"{LIST}{notification.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    first_read = notification.read_at
    client.get(f"{LIST}{notification.pk}/")
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_someone_elses_notification_answers_as_a_missing_one_and_stays_unread(client, clinic_a, maya, omar):
    theirs = _tell(omar, clinic_a)
    client.force_login(maya)
    assert client.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert client.get(f"{LIST}999999/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_ones_own(client, clinic_a, maya, omar):
    _tell(maya, clinic_a)
    _tell(maya, clinic_a)
    theirs = _tell(omar, clinic_a)
    client.force_login(maya)
    assert client.get(f"{LIST}read/").status_code == 405  # a change is a POST
    response = client.post(f"{LIST}read/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=maya, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_signing_in_is_needed(client, clinic_a, maya):
    notification = _tell(maya, clinic_a)
    for url in (LIST, f"{LIST}{notification.pk}/", FAILED):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


def test_the_clinic_admin_sees_the_failed_emails_of_their_site_only(client, clinic_a, clinic_b, admin_al):
    ours = _failed(clinic_a, "ours@example.org")
    theirs = _failed(clinic_b, "theirs@example.org")
    client.force_login(admin_al)
    response = client.get(FAILED)
    assert response.status_code == 200
    html = response.content.decode()
    assert ours.email in html and "550 mailbox unavailable" in html
    assert theirs.email not in html
    assert AccessEvent.objects.filter(actor_id=admin_al.pk, action="notification.search").exists()


def test_only_a_clinic_admin_sees_the_failed_emails(client, clinic_a, dr_ada, maya):
    _failed(clinic_a)
    for user in (dr_ada, maya):
        client.force_login(user)
        assert client.get(FAILED).status_code == 404


def test_send_again_queues_the_email_audits_it_and_it_goes_out(
    client, clinic_a, admin_al, django_capture_on_commit_callbacks
):
    notification = _failed(clinic_a)
    client.force_login(admin_al)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{FAILED}{notification.pk}/send-again/")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED
    assert notification.attempts == 0
    event = AuditEvent.objects.get(action="notification.resend")
    assert event.actor_id == admin_al.pk
    assert event.site_id == clinic_a.pk
    assert event.object_id == str(notification.pk)
    assert event.before == {"status": "failed", "attempts": 5}
    assert run_due_tasks() == 1
    assert [m.to for m in mail.outbox] == [["noor@example.org"]]


def test_an_admin_of_another_site_cannot_send_again(
    client, clinic_a, clinic_b, django_capture_on_commit_callbacks
):
    from conftest import make_user

    other_admin = make_user("ola", first="Ola", last="Berg", roles=[(clinic_b, "clinic_admin")])
    notification = _failed(clinic_a)
    client.force_login(other_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"{FAILED}{notification.pk}/send-again/")
    assert response.status_code == 404
    assert callbacks == []
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert not AuditEvent.objects.filter(action="notification.resend").exists()


def test_send_again_of_an_unknown_email_is_404_and_of_one_not_failed_is_refused(
    client, clinic_a, admin_al, dr_ada
):
    client.force_login(admin_al)
    assert client.post(f"{FAILED}999999/send-again/").status_code == 404
    sent = _tell(dr_ada, clinic_a)
    Notification.objects.filter(pk=sent.pk).update(status=Notification.Status.SENT)
    response = client.post(f"{FAILED}{sent.pk}/send-again/", follow=True)
    assert "only an email that failed can be sent again; this one is sent" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == Notification.Status.SENT
    assert not AuditEvent.objects.filter(action="notification.resend").exists()


def test_send_again_needs_a_post(client, clinic_a, admin_al):
    notification = _failed(clinic_a)
    client.force_login(admin_al)
    assert client.get(f"{FAILED}{notification.pk}/send-again/").status_code == 405


def _navigation_counts(user) -> int:
    """The queries of the navigation's counts for USER: one per link that shows a count (this app's
    unread count among them), whichever apps register them."""
    return sum(1 for link in plugs.nav_links_for(user) if link.count is not None)


def test_the_list_query_count_is_pinned_and_does_not_grow(
    client, clinic_a, maya, dr_ada, django_assert_num_queries
):
    _tell(maya, clinic_a)
    client.force_login(maya)
    # 1 session, 2 user, the navigation's counts (the unread one included), then 1 count for the pages
    # and 1 the page of notifications.
    assert _navigation_counts(maya) >= 1
    with django_assert_num_queries(2 + _navigation_counts(maya) + 2):
        client.get(LIST)
    for _ in range(30):
        _tell(maya, clinic_a)
    with django_assert_num_queries(2 + _navigation_counts(maya) + 2):
        response = client.get(LIST)
    assert len(response.context["notifications"]) == 25
    _tell(dr_ada, clinic_a)
    client.force_login(dr_ada)
    # Staff: also their memberships (read once, for access and navigation).
    with django_assert_num_queries(3 + _navigation_counts(dr_ada) + 2):
        client.get(LIST)


def test_the_failed_list_query_count_is_pinned(client, clinic_a, admin_al, django_assert_num_queries):
    for _ in range(3):
        _failed(clinic_a)
    client.force_login(admin_al)
    # 1 session, 2 user, 3 memberships, the navigation's counts, then 1 count, 1 the page joined to its
    # site and 1 the read logged.
    with django_assert_num_queries(3 + _navigation_counts(admin_al) + 3):
        client.get(FAILED)
