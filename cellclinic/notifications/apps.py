from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cellclinic.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from cellclinic.audit.selectors import register_action_labels, register_object_type
        from cellclinic.core import plugs
        from cellclinic.notifications.selectors import unread_count

        register_object_type("notification", "Notification")
        register_action_labels({"notification.resend": "Email queued to be sent again"})
        plugs.register_nav_link(
            "notifications",
            "Notifications",
            "notifications:list",
            shown_to=lambda user: True,
            order=85,
            count=unread_count,
        )
