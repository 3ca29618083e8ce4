"""The lab's answer to a treatment plan: the first day a harvest's cells can be processed.

Registered as the `processing` scheduler of `cellclinic.core.plugs` (see apps.py), so that a treatment
plan lays out its processing and the product-ready window from the first day the clinic's lab has a
slot free, without the treatment app knowing the lab.
"""

from datetime import date

from cellclinic.accounts.models import Site
from cellclinic.catalogue.schema import Therapy
from cellclinic.lab.models import LabProfile
from cellclinic.lab.services import earliest_processing, protocol_days


def processing_slot(site: Site, therapy: Therapy, wanted: date) -> tuple[date, date, date] | None:
    """(slot start, ready from, ready to) for cells of THERAPY harvested at SITE on WANTED, from the lab
    that serves SITE (`services.earliest_processing`).

    None when SITE has no lab, when its lab has no profile yet (so its capacity is unknown) or when
    THERAPY takes no processing slot (prepared at the bedside, or with no processing time).
    """
    if site.lab_id is None or protocol_days(therapy) is None:
        return None
    if not LabProfile.objects.filter(site_id=site.lab_id).exists():
        return None
    return earliest_processing(lab=site.lab, therapy=therapy, wanted=wanted)
