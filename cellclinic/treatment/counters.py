"""What treatment counts for pages of lower apps; registered in TreatmentConfig.ready()."""

from collections.abc import Collection

from django.db.models import Count

from cellclinic.treatment.models import TreatmentPlan


def plans_by_therapy_version(site_ids: Collection[int]) -> dict[tuple[str, str], int]:
    """Plans at SITE_IDS (in any status) by the therapy code and protocol version they were laid out from."""
    rows = (
        TreatmentPlan.objects.filter(site_id__in=site_ids)
        .values("therapy_code", "therapy_version")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {(row["therapy_code"], row["therapy_version"]): row["count"] for row in rows}
