"""The first successful answer to each idempotency key, kept for a day so a retry gets it again."""

from django.db import models


class IdempotentAnswer(models.Model):
    """The answer to the first successful request sent with KEY by one client (SCOPE).

    SCOPE is `user:<id>` for an authenticated caller and `address:<ip>` for an anonymous one. The request
    hash covers method, path, query and body, so the same key with another request is told apart.
    """

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_one_answer_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} -> {self.status}"
