"""Signed-in sessions with both factors, for tests (and tools) that are not about signing in.

`TwoFactorClient.force_login(user)` stands for a finished sign-in: password, then a code from the
person's authenticator app. Staff get a confirmed authenticator if they have none; a patient's session
is marked verified only when the patient has one. Tests about signing in use Django's own Client, whose
force_login is the password step alone.
"""

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cellclinic.accounts import second_factor


def authenticator_of(user) -> TOTPDevice:
    """USER's confirmed authenticator, made now when there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=second_factor.AUTHENTICATOR_NAME, confirmed=True)
    return device


def current_code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    """The code DEVICE's authenticator app shows now (or STEP_OFFSET steps away)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def verify_session(client: Client, user) -> None:
    """Mark CLIENT's signed-in session as having passed the second factor."""
    if not second_factor.required_for(user) and not second_factor.has_second_factor(user):
        return
    session = client.session
    session[second_factor.VERIFIED_SESSION_KEY] = authenticator_of(user).persistent_id
    session.pop(second_factor.PENDING_SESSION_KEY, None)
    session.save()


class TwoFactorClient(Client):
    """Django's test client whose force_login includes the second factor."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        verify_session(self, user)
