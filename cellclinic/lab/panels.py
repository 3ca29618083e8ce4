"""What the lab adds to the patient's chart: their specimens and products, for clinic staff.

Registered in LabConfig.ready() in the chart's "plan" section, after the treatment plans. Lab staff
never open a chart; a portal patient gets nothing here (their own pages never show DINs, chain-of-
identity ids or lab words).
"""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cellclinic.accounts.access import has_permission
from cellclinic.accounts.roles import Permission
from cellclinic.lab import selectors, states
from cellclinic.lab.models import Batch
from cellclinic.lab.views import TONES


def chart_panel(request, patient) -> dict | None:
    """The patient's specimens (with the ready window of their newest batch) and products, newest
    first; None when there are none or the reader may not see the patient. Two queries."""
    user = request.user
    if user.is_patient or not has_permission(user, Permission.PATIENT_VIEW, patient.site_id):
        return None
    chains = selectors.chains_for(user).filter(patient=patient).values("pk")
    batch = Batch.objects.filter(specimen=OuterRef("pk")).order_by("-created_at", "-id")
    specimens = list(
        selectors.specimens_for(user)
        .filter(chain__in=chains)
        .annotate(
            ready_from=Subquery(batch.values("ready_from")[:1]),
            ready_to=Subquery(batch.values("ready_to")[:1]),
            batch_status=Subquery(batch.values("status")[:1]),
        )
        .order_by("-collected_at", "-id")
    )
    products = list(
        selectors.products_for(user)
        .filter(chain__in=chains)
        .order_by("-created_at", "batch_id", "dose_number")
    )
    if not specimens and not products:
        return None
    now = timezone.now()
    return {
        "specimens": [
            (
                specimen,
                states.SPECIMEN_STATES.label(specimen.status),
                TONES.get(specimen.status, ""),
                states.BATCH_STATES.label(specimen.batch_status) if specimen.batch_status else "",
            )
            for specimen in specimens
        ],
        "products": [
            (
                product,
                states.PRODUCT_STATES.label(product.status),
                TONES.get(product.status, ""),
                product.expires_at <= now,
            )
            for product in products
        ],
    }
