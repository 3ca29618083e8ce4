"""cellclinic check_catalogue [DIR ...]"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from cellclinic.catalogue.registry import catalogue_read, configured_dirs


class Command(BaseCommand):
    help = (
        "Validate the therapy catalogue: the built-in files, the directories in "
        "CELLCLINIC_CATALOGUE_DIRS, and any DIR given here (a clinic can check a new file before "
        "configuring it). Lists each version of each therapy, or every problem with its file and field."
    )

    def add_arguments(self, parser):
        parser.add_argument("dirs", nargs="*", type=Path, help="More catalogue directories to check.")

    def handle(self, *args, **options):
        try:
            catalogue = catalogue_read([*configured_dirs(), *options["dirs"]])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for code, current in catalogue.therapies.items():
            for therapy in catalogue.versions(code):
                mark = "  (current)" if therapy is current and len(catalogue.versions(code)) > 1 else ""
                self.stdout.write(f"{code}  version {therapy.version}  {catalogue.file_of(therapy)}{mark}")
        counts = f"{len(catalogue.therapies)} therapies and {len(catalogue.alternatives)} alternatives"
        self.stdout.write(self.style.SUCCESS(f"{counts} are valid."))
