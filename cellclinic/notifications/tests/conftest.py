"""Running the background work of the tests deterministically.

The tests use the same database task backend as production. Emails are queued by `transaction.on_commit`
(captured with django_capture_on_commit_callbacks), then `run_due_tasks` does what the worker
(`db_worker`) does with each task that is due: claim it and run it. Time moves with time_machine, so a
retry due in five minutes runs only once the clock has passed it.
"""

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

REFUSING = "cellclinic.notifications.tests.backends.RefusingBackend"


def run_due_tasks() -> int:
    """Run every queued task that is due now, as the worker would; how many ran."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    ran = 0
    while (result := DBTaskResult.objects.ready().filter(backend_name="default").first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
        result.refresh_from_db()
        assert result.status == "SUCCESSFUL", result.traceback
        ran += 1
    return ran


@pytest.fixture
def refusing_mail(settings):
    """Every email fails, as with a mail server that refuses them."""
    settings.EMAIL_BACKEND = REFUSING
    return settings
