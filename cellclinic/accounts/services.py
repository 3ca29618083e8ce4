"""Writes for sites, users, memberships and API tokens; each is audited."""

import secrets

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cellclinic.accounts.access import site_ids_with
from cellclinic.accounts.models import ApiToken, Membership, Site, User
from cellclinic.accounts.roles import Permission, Role
from cellclinic.accounts.second_factor import sessions_end
from cellclinic.audit.services import audit_record, snapshot
from cellclinic.core.errors import FieldError, InvalidInput

TOKEN_PREFIX = "cc_"
UNKNOWN_ROLE = f"must be one of {', '.join(r.value for r in Role)}"
TOKEN_NAME_MAX = 80

NAME_REQUIRED = "is required: signatures and the audit trail print the name"
REASON_REQUIRED = "is required; it is kept in the audit trail"
REASON_MAX = 500
OWN_ACCOUNT = "you cannot deactivate your own account"
ALREADY_INACTIVE = "this account is already deactivated"
ALREADY_ACTIVE = "this account is already active"
WORKS_ELSEWHERE = (
    "also holds roles at sites you do not manage; revoke the roles at your sites instead, "
    "or ask an admin of every site they work at"
)
LAST_ADMIN_ROLE = "this is your last clinic admin role; ask another clinic admin to revoke it"
ROLE_NOT_HELD = "this role is no longer held"
WRONG_OLD_PASSWORD = "is not your current password"
SAME_PASSWORD = "must differ from your current password"
TOKEN_NAME_REQUIRED = "is required, to tell your tokens apart"
# Segregation of duties: whoever manages staff never gives themselves a role that works on records.
SELF_GRANT = "you cannot grant a role to yourself; ask another clinic admin"
OWN_SECOND_FACTOR_RESET = "another clinic admin resets your own second factor"
NO_SECOND_FACTOR = "this account has no second factor to reset"


@transaction.atomic
def site_create(*, code: str, name: str, kind: str, lab: Site | None = None, actor=None, **extra) -> Site:
    site = Site(code=code, name=name, kind=kind, lab=lab, **extra)
    try:
        site.full_clean()
    except ValidationError as exc:
        raise InvalidInput.from_django(exc, "The site is not valid.") from exc
    if lab is not None and lab.kind != Site.Kind.LAB:
        raise InvalidInput.single("lab", "must be a lab site")
    site.save()
    audit_record(
        actor=actor,
        action="site.create",
        object_type="site",
        object_id=site.pk,
        site=site,
        after=snapshot(site),
    )
    return site


def _password_errors(exc: ValidationError, field_name: str) -> InvalidInput:
    return InvalidInput(
        detail="The password is not acceptable.",
        errors=[FieldError(field_name, message) for message in exc.messages],
    )


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    kind: str = User.Kind.STAFF,
    actor=None,
    site: Site | None = None,
    patient_id: int | None = None,
) -> User:
    """Create a user with an Argon2-hashed password; the password is checked against the policy.

    SITE (and PATIENT_ID for a portal account) place the audit event where the clinic's admins see it.
    """
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput.single("username", f"{username!r} is already taken")
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, kind=kind)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise InvalidInput.from_django(exc, "The user is not valid.") from exc
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise _password_errors(exc, "password") from exc
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        site=site,
        patient_id=patient_id,
        after=snapshot(user, exclude=("password", "groups", "user_permissions", "last_login")),
    )
    return user


@transaction.atomic
def membership_grant(*, user: User, site: Site, role: str, actor=None) -> Membership:
    if role not in {r.value for r in Role}:
        raise InvalidInput.single("role", UNKNOWN_ROLE)
    if user.is_patient:
        raise InvalidInput.single("user", "a patient portal account cannot hold a staff role")
    if actor is not None and actor.pk == user.pk:
        raise InvalidInput.single("role", SELF_GRANT)
    membership, created = Membership.objects.get_or_create(user=user, site=site, role=role)
    if created:
        audit_record(
            actor=actor,
            action="membership.grant",
            object_type="user",
            object_id=user.pk,
            site=site,
            after={"site": site.code, "role": role},
        )
    return membership


@transaction.atomic
def staff_member_create(
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    site: Site,
    role: str,
    email: str = "",
    actor: User | None,
) -> User:
    """A staff account with its first role, both or neither; the password is checked against the policy."""
    errors = [
        FieldError(name, NAME_REQUIRED)
        for name, value in (("first_name", first_name), ("last_name", last_name))
        if not value.strip()
    ]
    if role not in {r.value for r in Role}:
        errors.append(FieldError("role", UNKNOWN_ROLE))
    if errors:
        raise InvalidInput(detail="The staff member is not valid; nothing was saved.", errors=errors)
    user = user_create(
        username=username.strip(),
        password=password,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        actor=actor,
        site=site,
    )
    membership_grant(user=user, site=site, role=role, actor=actor)
    return user


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: User | None, reason: str = "") -> None:
    """Take one role at one site away; nobody may revoke their own last clinic admin role."""
    held = list(
        Membership.objects.select_for_update()
        .filter(user_id=membership.user_id)
        .order_by("role")
        .values_list("pk", "site_id", "role")
    )
    if membership.pk not in {pk for pk, _, _ in held}:
        raise InvalidInput.single("role", ROLE_NOT_HELD)
    admin_roles = sum(1 for _, _, role in held if role == Role.CLINIC_ADMIN)
    if (
        actor is not None
        and actor.pk == membership.user_id
        and membership.role == Role.CLINIC_ADMIN
        and admin_roles == 1
    ):
        raise InvalidInput.single("role", LAST_ADMIN_ROLE)
    site = membership.site
    before = [role for _, site_id, role in held if site_id == site.pk]
    Membership.objects.filter(pk=membership.pk).delete()
    audit_record(
        actor=actor,
        action="membership.revoke",
        object_type="user",
        object_id=membership.user_id,
        site=site,
        before={"site": site.code, "roles": before},
        after={"site": site.code, "roles": [role for role in before if role != membership.role]},
        reason=reason.strip(),
    )


OWN_PASSWORD_RESET = "change your own password under My account, with your current password"


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", REASON_REQUIRED)
    if len(reason) > REASON_MAX:
        raise InvalidInput.single("reason", f"must be at most {REASON_MAX} characters")
    return reason


def _check_manages_every_site(actor: User | None, user: User) -> None:
    """An admin changes a whole account only when every site the person works at is theirs."""
    if actor is None:
        return
    held = set(Membership.objects.filter(user=user).values_list("site_id", flat=True))
    if held - site_ids_with(actor, Permission.STAFF_MANAGE):
        raise InvalidInput.single("user", WORKS_ELSEWHERE)


def _user_set_active(*, user: User, actor: User | None, reason: str, active: bool) -> User:
    """Lock the account, check it may change, flip it and record why; the callers add their own rules."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active == active:
        raise InvalidInput.single("user", ALREADY_ACTIVE if active else ALREADY_INACTIVE)
    _check_manages_every_site(actor, locked)
    after: dict = {"is_active": active}
    if not active:
        tokens = ApiToken.objects.filter(user=locked, revoked_at__isnull=True)
        after["api_tokens_revoked"] = sorted(tokens.values_list("prefix", flat=True))
        tokens.update(revoked_at=timezone.now())
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.reactivate" if active else "user.deactivate",
        object_type="user",
        object_id=locked.pk,
        before={"is_active": not active},
        after=after,
        reason=reason,
    )
    user.is_active = active
    return locked


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None, reason: str) -> User:
    """Stop an account from signing in, and revoke its API tokens; its roles are kept for the record."""
    reason = _clean_reason(reason)
    if actor is not None and actor.pk == user.pk:
        raise InvalidInput.single("user", OWN_ACCOUNT)
    return _user_set_active(user=user, actor=actor, reason=reason, active=False)


@transaction.atomic
def user_reactivate(*, user: User, actor: User | None, reason: str) -> User:
    """Let a deactivated account sign in again; its revoked API tokens stay revoked."""
    return _user_set_active(user=user, actor=actor, reason=_clean_reason(reason), active=True)


@transaction.atomic
def user_password_reset(*, user: User, actor: User | None, new_password: str, reason: str) -> User:
    """An admin sets a new initial password, for someone who forgot theirs or was locked out.

    It also lifts a sign-in lockout for the username. The password itself is never audited.
    """
    reason = _clean_reason(reason)
    if actor is not None and actor.pk == user.pk:
        raise InvalidInput.single("user", OWN_PASSWORD_RESET)
    locked = User.objects.select_for_update().get(pk=user.pk)
    _check_manages_every_site(actor, locked)
    try:
        validate_password(new_password, locked)
    except ValidationError as exc:
        raise _password_errors(exc, "password") from exc
    locked.set_password(new_password)
    locked.save(update_fields=["password"])
    lifted = axes_reset(username=locked.username)
    audit_record(
        actor=actor,
        action="user.reset_password",
        object_type="user",
        object_id=locked.pk,
        after={"sign_in_lockout_lifted": bool(lifted), "api_tokens_revoked": _revoke_api_tokens(locked)},
        reason=reason,
    )
    return locked


def _revoke_api_tokens(user: User) -> list[str]:
    """Revoke every live API token of USER (a new password is a new start); answer their prefixes.

    Other signed-in sessions end on their next request: Django binds each session to the password hash.
    """
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    prefixes = sorted(tokens.values_list("prefix", flat=True))
    tokens.update(revoked_at=timezone.now())
    return prefixes


@transaction.atomic
def second_factor_reset(*, user: User, actor: User | None, reason: str) -> User:
    """An admin removes a staff member's authenticator and recovery codes; they enrol again at sign-in.

    Every session of theirs ends, so none stays verified by the old device.
    """
    reason = _clean_reason(reason)
    if actor is not None and actor.pk == user.pk:
        raise InvalidInput.single("user", OWN_SECOND_FACTOR_RESET)
    locked = User.objects.select_for_update().get(pk=user.pk)
    _check_manages_every_site(actor, locked)
    authenticators = TOTPDevice.objects.filter(user=locked)
    if not authenticators.filter(confirmed=True).exists():
        raise InvalidInput.single("user", NO_SECOND_FACTOR)
    authenticators.delete()
    StaticDevice.objects.filter(user=locked).delete()
    ended = sessions_end(locked)
    audit_record(
        actor=actor,
        action="user.reset_second_factor",
        object_type="user",
        object_id=locked.pk,
        before={"second_factor": True},
        after={"second_factor": False, "sessions_ended": ended},
        reason=reason,
    )
    return locked


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    """The user's own password change: the current one first, then the policy for the new one."""
    if not old_password or not user.check_password(old_password):
        raise InvalidInput.single("old_password", WRONG_OLD_PASSWORD)
    if new_password == old_password:
        raise InvalidInput.single("new_password", SAME_PASSWORD)
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise _password_errors(exc, "new_password") from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    revoked = _revoke_api_tokens(user)
    audit_record(
        actor=user,
        action="user.change_password",
        object_type="user",
        object_id=user.pk,
        after={"api_tokens_revoked": revoked} if revoked else None,
    )
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str = "cli", actor=None) -> tuple[ApiToken, str]:
    """A new bearer token; the key itself is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput.single("name", TOKEN_NAME_REQUIRED)
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput.single("name", f"must be at most {TOKEN_NAME_MAX} characters")
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8])
    audit_record(
        actor=actor or user,
        action="api_token.create",
        object_type="api_token",
        object_id=token.pk,
        after={"user": user.username, "name": name, "prefix": token.prefix},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Stop a token from authenticating; revoking it again changes nothing and records nothing."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.refresh_from_db(fields=["revoked_at"])
        return token
    token.revoked_at = now
    audit_record(
        actor=actor,
        action="api_token.revoke",
        object_type="api_token",
        object_id=token.pk,
        before={"revoked_at": None},
        after={"user": token.user.username, "name": token.name, "prefix": token.prefix, "revoked_at": now},
    )
    return token


def api_token_authenticate(key: str) -> User | None:
    """The active user owning KEY, or None."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute, so a busy client does not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
