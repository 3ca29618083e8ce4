"""Catalogue pages for staff: every therapy at a glance, and one therapy in full."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.selectors import (
    catalogue_get_for_user,
    therapies_sorted,
    therapy_get_for_user,
    therapy_versions_in_use,
)


@login_required
def therapy_list(request):
    """Therapies, every protocol version with the records made on it, and the alternatives."""
    catalogue = catalogue_get_for_user(request.user)
    usage_labels, versions = therapy_versions_in_use(request.user, catalogue)
    context = {
        "nav_active": "catalogue",
        "therapies": therapies_sorted(catalogue),
        "usage_labels": usage_labels,
        "versions": versions,
        "alternatives": list(catalogue.alternatives.values()),
        "alternative_sources": catalogue.alternative_sources,
    }
    return render(request, "catalogue/list.html", context)


@login_required
def therapy_detail(request, code: str, version: str | None = None):
    """One protocol (the current version, or VERSION), every section, with sources and unverified numbers."""
    therapy = therapy_get_for_user(request.user, code, version)
    catalogue = get_catalogue()
    context = {
        "nav_active": "catalogue",
        "therapy": therapy,
        "current": catalogue.therapies[therapy.code],
        "versions": catalogue.versions(therapy.code),
        "file_name": catalogue.file_of(therapy).name,
        "alternatives": catalogue.alternatives_for(therapy.indication_codes),
        # The steps of the procedure in order, each with the screening risks it brings (steps.toml).
        "steps": [catalogue.steps[step.value] for step in therapy.steps if step.value in catalogue.steps],
        "step_sources": catalogue.step_sources,
        "restriction_groups": [
            ("Contraindications", "Contraindication", therapy.contraindications),
            ("Cautions", "Caution", therapy.cautions),
        ],
        "aftercare_groups": [("Treated area", therapy.aftercare.treated_area)]
        + ([("Harvest site", therapy.aftercare.harvest_site)] if therapy.harvest else []),
    }
    return render(request, "catalogue/detail.html", context)
