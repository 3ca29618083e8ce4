"""`cellclinic requeue_emails`: queue again the emails a stopped worker or an unreachable queue left."""

from django.core.management.base import BaseCommand

from cellclinic.notifications.services import STRANDED_MINUTES, requeue_stranded


class Command(BaseCommand):
    help = (
        f"Queue again every notification email left waiting more than {STRANDED_MINUTES} minutes with no "
        "task to send it. `cellclinic serve` runs it before each start of its email worker; run it before "
        "starting `cellclinic db_worker` under a service manager of your own."
    )

    def handle(self, *args, **options):
        count = requeue_stranded()
        self.stdout.write(f"{count} email(s) queued again." if count else "No email was left waiting.")
