"""The background work of notifications, run by the task worker (`db_worker`)."""

from django_tasks import task

from cellclinic.notifications import services


@task()
def send_notification_email(notification_id: int) -> str:
    """Send one notification's email; a failure is recorded and tried again later (see services)."""
    return services.deliver(notification_id)
