"""A registry of many patients for the benchmarks and the load test, bulk-inserted at one clinic.

Import it after `django.setup()`. Registration itself is not what these scripts measure, so the rows are
written directly, with medical record numbers continuing the clinic's sequence.
"""

from datetime import date

from django.db import connection

from cellclinic.accounts.models import Site
from cellclinic.patients.identifiers import mrn_format
from cellclinic.patients.models import MrnSequence, Patient

GIVEN = ["Maya", "Daniel", "Priya", "Tomasz", "Amara", "Oliver", "Sofia", "Kwame", "Hannah", "Lucas"]
FAMILY = ["Thompson", "Osei", "Raman", "Nowak", "Nwosu", "Brennan", "Martinez"]
CONCERNS = ["burn", "scar", "wound", "vitiligo", "hypopigmentation", "sun_damage", "premature_ageing"]
BATCH = 5000


def grow_registry(site: Site, total: int) -> None:
    """Bulk-insert patients at SITE until the whole registry holds TOTAL (no change if it already does)."""
    missing = max(total - Patient.objects.count(), 0)
    sequence, _ = MrnSequence.objects.get_or_create(site=site)
    first = sequence.last_value + 1
    batch = []
    for number in range(first, first + missing):
        batch.append(
            Patient(
                site=site,
                mrn=mrn_format(site.code, number),
                given_name=GIVEN[number % len(GIVEN)],
                family_name=f"{FAMILY[number % len(FAMILY)]}{number}",
                date_of_birth=date(1950 + number % 50, 1 + number % 12, 1 + number % 28),
                presenting_concern=CONCERNS[number % len(CONCERNS)],
            )
        )
        if len(batch) == BATCH:
            Patient.objects.bulk_create(batch)
            batch = []
    Patient.objects.bulk_create(batch)
    sequence.last_value += missing
    sequence.save(update_fields=["last_value"])
    if connection.vendor == "postgresql":
        # Autovacuum would do this soon after a bulk load; measure the steady state, not the gap.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
