"""DINs: unique and in sequence per lab and year, with a valid check character, even when batches finish
at the same moment."""

import threading
import time

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from cellclinic.core.checkchar import mod37_2
from cellclinic.core.errors import InvalidInput
from cellclinic.lab.isbt import parse_din
from cellclinic.lab.models import DinSequence, Product
from cellclinic.lab.services import DINS_USED_UP, batch_finish_processing, lab_profile_set
from cellclinic.lab.tests.builders import donor_batch_to, donor_lot_ready

BATCHES = 4
DOSES = 2


def _as_the_server_would(work):
    """Run WORK on this thread's own connection, waiting its turn as the server's database would.

    PostgreSQL waits on the row lock; the shared in-memory SQLite of the tests answers "table is locked"
    at once instead, so there the waiting is a retry on a new connection.
    """
    for _ in range(2000):
        try:
            return work()
        except OperationalError as error:
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            connections.close_all()
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_batches_finishing_at_once_get_distinct_consecutive_dins(lab, lab_li, qa_quinn):
    lot = donor_lot_ready(lab, lab_li, qa_quinn, quantity=BATCHES * DOSES)
    batches = [donor_batch_to("in_process", lot, lab_li, qa_quinn, doses=DOSES)[0] for _ in range(BATCHES)]
    start = threading.Barrier(BATCHES)
    failures: list[BaseException] = []

    def finish(batch):
        try:
            start.wait()
            _as_the_server_would(lambda: batch_finish_processing(actor=lab_li, batch=batch, doses_made=DOSES))
        except BaseException as error:  # reported below, on the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finish, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    year = timezone.localdate().year
    dins = list(Product.objects.order_by("din").values_list("din", "din_check", "batch_id"))
    assert [int(din[7:]) for din, _, _ in dins] == list(range(1, BATCHES * DOSES + 1))
    assert all(din.startswith(f"A9999{year % 100:02d}") and check == mod37_2(din) for din, check, _ in dins)
    # Each batch's doses were numbered together, under the lock.
    for batch in batches:
        numbers = sorted(int(din[7:]) for din, _, owner in dins if owner == batch.pk)
        assert numbers == list(range(numbers[0], numbers[0] + DOSES))
    assert DinSequence.objects.get(lab=lab, year=year).last == BATCHES * DOSES


@pytest.mark.django_db
def test_the_sequence_continues_from_where_the_year_stands_and_each_din_reads_back(lab, lab_li, qa_quinn):
    lab_profile_set(lab=lab, facility_code="W1234", processing_slots=2)
    year = timezone.localdate().year
    DinSequence.objects.create(lab=lab, year=year, last=41)
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    _, products, _ = donor_batch_to("qc_pending", lot, lab_li, qa_quinn, doses=2)
    assert [p.din for p in products] == [f"W1234{year % 100:02d}000042", f"W1234{year % 100:02d}000043"]
    for product in products:
        parsed = parse_din(f"{product.din}{product.din_flags}{product.din_check}")
        assert (parsed.din, parsed.check, parsed.flags) == (product.din, product.din_check, "00")


@pytest.mark.django_db
def test_a_year_whose_numbers_are_used_up_makes_no_products(lab, lab_li, qa_quinn):
    year = timezone.localdate().year
    lot = donor_lot_ready(lab, lab_li, qa_quinn)
    batch, _, _ = donor_batch_to("in_process", lot, lab_li, qa_quinn, doses=2)
    DinSequence.objects.create(lab=lab, year=year, last=999_999)
    with pytest.raises(InvalidInput) as caught:
        batch_finish_processing(actor=lab_li, batch=batch, doses_made=1)
    assert [(e.field, e.message) for e in caught.value.errors] == [("lab", DINS_USED_UP)]
    assert not Product.objects.exists()
