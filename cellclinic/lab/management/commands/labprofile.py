"""cellclinic labprofile LABCODE --fin A9999 --slots N"""

from django.core.management.base import BaseCommand, CommandError

from cellclinic.accounts.models import Site
from cellclinic.core.errors import InvalidInput
from cellclinic.lab.models import LabProfile
from cellclinic.lab.services import lab_profile_set


class Command(BaseCommand):
    help = (
        "Set up a cell-processing lab: the ISBT 128 facility identification number (FIN) its DINs start "
        "with, and how many batches it processes at once. Run it again to change either."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="The lab's site code (see `cellclinic createsite`).")
        parser.add_argument("--fin", help="The five-character FIN assigned by ICCBBA, such as A9999.")
        parser.add_argument("--slots", type=int, help="Processing slots (incubators): batches at once.")

    def handle(self, *args, **options):
        lab = Site.objects.filter(code=options["code"].strip().upper(), kind=Site.Kind.LAB).first()
        if lab is None:
            labs = ", ".join(Site.objects.filter(kind=Site.Kind.LAB).values_list("code", flat=True))
            raise CommandError(f"no lab with code {options['code']!r} (labs: {labs or 'none yet'})")
        current = LabProfile.objects.filter(site=lab).first()
        fin, slots = options["fin"], options["slots"]
        if current is None and (fin is None or slots is None):
            raise CommandError(f"{lab.code} has no lab profile yet: give both --fin and --slots")
        try:
            profile = lab_profile_set(
                lab=lab,
                facility_code=fin if fin is not None else current.facility_code,
                processing_slots=slots if slots is not None else current.processing_slots,
            )
        except InvalidInput as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
            raise CommandError(f"Lab profile not saved. {details}") from exc
        self.stdout.write(
            f"{lab.name} ({lab.code}): facility {profile.facility_code}, "
            f"{profile.processing_slots} processing slot{'s' if profile.processing_slots != 1 else ''}."
        )
