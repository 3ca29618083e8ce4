"""Mail backends for the tests: one whose server always refuses."""

from smtplib import SMTPException

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message, as an unreachable or misconfigured one does."""

    def send_messages(self, email_messages):
        raise SMTPException("421 mail.example.org: service not available")
