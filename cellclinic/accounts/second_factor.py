"""The second factor: an authenticator app (TOTP) and single-use recovery codes.

Every staff account needs one; a patient may turn it on. A session counts as verified once a code from
the person's own confirmed device was accepted in it: the session (kept on the server) then holds that
device's id, and nothing else writes it. Reading it costs no query on each request; a reset of the
second factor ends every session of the person instead (accounts/services.py).

Recovery codes are django-otp static tokens. Only a hash of each code is stored: the code shown once is
16 random base32 characters (80 bits); the stored token is the first 16 base32 characters of its SHA-256.
"""

import base64
import hashlib
import secrets

import segno
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cellclinic.accounts.models import User
from cellclinic.audit.services import audit_record
from cellclinic.core.errors import InvalidInput

# Set at sign-in when the person must still give a second factor (staff always; a patient who has one).
PENDING_SESSION_KEY = "cellclinic_second_factor_pending"
# The persistent id of the device that verified this session.
VERIFIED_SESSION_KEY = "cellclinic_second_factor_device"
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 16

WRONG_CODE = "is not a current code from your authenticator app, nor an unused recovery code"
CODE_REQUIRED = "is required"
ALREADY_ENROLLED = "two-factor sign-in is already set up for this account"


def required_for(user: User) -> bool:
    """Staff always sign in with a second factor."""
    return not user.is_patient


def confirmed_authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_needs_second_factor(request) -> bool:
    """True while the signed-in session still owes a second factor."""
    user = request.user
    if not user.is_authenticated or request.session.get(VERIFIED_SESSION_KEY):
        return False
    return required_for(user) or bool(request.session.get(PENDING_SESSION_KEY))


def mark_pending_at_sign_in(request, user: User) -> None:
    """At the password step: does this session owe a second factor? Staff always; a patient if enrolled."""
    request.session.pop(VERIFIED_SESSION_KEY, None)
    if required_for(user) or has_second_factor(user):
        request.session[PENDING_SESSION_KEY] = True
    else:
        request.session.pop(PENDING_SESSION_KEY, None)


def mark_verified(request, device) -> None:
    """The session is verified with DEVICE; its id changes, as it does at the password step."""
    if device.user_id != request.user.pk:
        raise ValueError("a session is verified only with its own user's device")
    request.session.cycle_key()
    request.session[VERIFIED_SESSION_KEY] = device.persistent_id
    request.session.pop(PENDING_SESSION_KEY, None)


def sessions_end(user: User) -> int:
    """End every signed-in session of USER (database sessions, the configured engine); answer how many."""
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_hash(code: str) -> str:
    """What is stored for a recovery code: 16 base32 characters of its SHA-256 (fits django-otp's token)."""
    digest = hashlib.sha256(normalise_recovery_code(code).encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:16].lower()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:RECOVERY_CODE_LENGTH]
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one per person); refused once one is confirmed."""
    if has_second_factor(user):
        raise InvalidInput.single("code", ALREADY_ENROLLED)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here (no outside service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, title="QR code to scan")


def enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with a code from it; answer the device and new recovery codes (shown once).

    A wrong code is refused after its transaction commits, so django-otp's throttling counts it.
    """
    code = (code or "").strip().replace(" ", "")
    if not code:
        raise InvalidInput.single("code", CODE_REQUIRED)
    result = _enrolment_confirm(user, code)
    if result is None:
        raise InvalidInput.single("code", WRONG_CODE)
    return result


@transaction.atomic
def _enrolment_confirm(user: User, code: str) -> tuple[TOTPDevice, list[str]] | None:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or has_second_factor(user):
        raise InvalidInput.single("code", ALREADY_ENROLLED)
    if not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _recovery_codes_replace(user)
    audit_record(
        actor=user,
        action="user.enrol_second_factor",
        object_type="user",
        object_id=user.pk,
        after={"device": device.name, "recovery_codes": len(codes)},
    )
    return device, codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_code_hash(c)) for c in codes)
    return codes


def second_factor_verify(*, user: User, code: str):
    """The device that accepts CODE (a six-digit code, or a recovery code, used up); InvalidInput otherwise.

    A wrong code is refused after its transaction commits, so django-otp's throttling counts it.
    """
    code = (code or "").strip()
    if not code:
        raise InvalidInput.single("code", CODE_REQUIRED)
    device = _second_factor_verify(user, code)
    if device is None:
        raise InvalidInput.single("code", WRONG_CODE)
    return device


@transaction.atomic
def _second_factor_verify(user: User, code: str):
    compact = code.replace(" ", "")
    if compact.isdigit():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device if device is not None and device.verify_token(compact) else None
    device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(recovery_code_hash(code)):
        audit_record(
            actor=user,
            action="user.use_recovery_code",
            object_type="user",
            object_id=user.pk,
            after={"recovery_codes_left": device.token_set.count()},
        )
        return device
    return None


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
