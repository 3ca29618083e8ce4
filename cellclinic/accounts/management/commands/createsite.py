"""cellclinic createsite CODE --name NAME --kind clinic|lab [--lab CODE]"""

from django.core.management.base import BaseCommand, CommandError

from cellclinic.accounts.models import Site
from cellclinic.accounts.services import site_create
from cellclinic.core.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Create a clinic or a cell-processing lab. A clinic names the lab that processes its cells "
        "with --lab; several clinics may share one lab."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="2-8 upper-case letters or digits, used in MRNs (e.g. NCL).")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=[k.value for k in Site.Kind])
        parser.add_argument("--lab", help="Code of the lab that serves this clinic.")
        parser.add_argument("--address", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="", help="How patients reach the clinic; named in its emails.")

    def handle(self, *args, **options):
        lab = None
        if options["lab"]:
            if options["kind"] != Site.Kind.CLINIC:
                raise CommandError("--lab: only a clinic is served by a lab")
            lab = Site.objects.filter(code=options["lab"].upper()).first()
            if lab is None or lab.kind != Site.Kind.LAB:
                labs = ", ".join(Site.objects.filter(kind=Site.Kind.LAB).values_list("code", flat=True))
                raise CommandError(f"--lab: no lab with code {options['lab']!r} (labs: {labs or 'none yet'})")
        try:
            site = site_create(
                code=options["code"].upper(),
                name=options["name"].strip(),
                kind=options["kind"],
                lab=lab,
                address=options["address"],
                phone=options["phone"],
                email=options["email"].strip(),
            )
        except InvalidInput as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail
            raise CommandError(f"Site not created. {details}") from exc
        served = f", served by {lab.code}" if lab else ""
        self.stdout.write(f"Created {site.get_kind_display().lower()} {site.name} ({site.code}){served}.")
