"""What the self-assessment adds to the portal: the patient's latest assessment, explained."""

from cellclinic.candidacy.models import Assessment


def portal_panel(request, patient) -> dict | None:
    """The latest self-assessment or assessment at consultation, or nothing when there is none."""
    assessment = Assessment.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    return {"assessment": assessment} if assessment else None
