from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cellclinic.audit"
    label = "audit"
    verbose_name = "Audit trail and signatures"
