from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cellclinic.audit"
    label = "audit"
    verbose_name = "Audit trail and signatures"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from cellclinic.accounts.access import has_permission
        from cellclinic.accounts.roles import Permission
        from cellclinic.audit import signals
        from cellclinic.core import plugs

        connection_created.connect(signals.sqlite_functions, dispatch_uid="audit.sqlite_functions")
        signals.connect()

        def auditor(user) -> bool:
            return has_permission(user, Permission.AUDIT_VIEW)

        plugs.register_nav_link("audit", "Audit trail", "audit:list", shown_to=auditor, order=70)
        plugs.register_panel(
            "home",
            "audit",
            template="audit/_home_tile.html",
            context=lambda request, user: {} if auditor(user) else None,
            order=30,
        )
