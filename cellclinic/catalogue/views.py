"""Catalogue pages for staff: every therapy at a glance, and one therapy in full."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.selectors import catalogue_get_for_user, therapies_sorted, therapy_get_for_user


@login_required
def therapy_list(request):
    """Therapies and the alternatives to discuss with them."""
    catalogue = catalogue_get_for_user(request.user)
    context = {
        "nav_active": "catalogue",
        "therapies": therapies_sorted(catalogue),
        "alternatives": list(catalogue.alternatives.values()),
        "alternative_sources": catalogue.alternative_sources,
    }
    return render(request, "catalogue/list.html", context)


@login_required
def therapy_detail(request, code: str):
    """One protocol, every section, with sources and unverified numbers marked."""
    therapy = therapy_get_for_user(request.user, code)
    catalogue = get_catalogue()
    context = {
        "nav_active": "catalogue",
        "therapy": therapy,
        "file_name": catalogue.files[therapy.code].name,
        "alternatives": catalogue.alternatives_for(therapy.indication_codes),
        "restriction_groups": [
            ("Contraindications", "Contraindication", therapy.contraindications),
            ("Cautions", "Caution", therapy.cautions),
        ],
        "aftercare_groups": [("Treated area", therapy.aftercare.treated_area)]
        + ([("Harvest site", therapy.aftercare.harvest_site)] if therapy.harvest else []),
    }
    return render(request, "catalogue/detail.html", context)
