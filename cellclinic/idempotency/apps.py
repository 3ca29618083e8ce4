from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "cellclinic.idempotency"
    label = "idempotency"
    verbose_name = "Idempotent API writes"
