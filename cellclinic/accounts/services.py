"""Writes for sites, users, memberships and API tokens; each is audited."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cellclinic.accounts.models import ApiToken, Membership, Site, User
from cellclinic.accounts.roles import Role
from cellclinic.audit.services import audit_record, snapshot
from cellclinic.core.errors import InvalidInput

TOKEN_PREFIX = "cc_"


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
    validate: bool = True,
) -> User:
    """Create a user with an Argon2-hashed password; the password is checked against the policy."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput.single("username", f"{username!r} is already taken")
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, kind=kind)
    try:
        user.full_clean(exclude=["password"])
        if validate:
            validate_password(password, user)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise InvalidInput.from_django(exc, "The user is not valid.") from exc
        raise InvalidInput(
            detail="The password is not acceptable.",
            errors=[InvalidInput.single("password", m).errors[0] for m in exc.messages],
        ) from exc
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        after=snapshot(user, exclude=("password", "groups", "user_permissions", "last_login")),
    )
    return user


@transaction.atomic
def membership_grant(*, user: User, site: Site, role: str, actor=None) -> Membership:
    if role not in {r.value for r in Role}:
        raise InvalidInput.single("role", f"must be one of {', '.join(r.value for r in Role)}")
    if user.is_patient:
        raise InvalidInput.single("user", "a patient portal account cannot hold a staff role")
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
def api_token_create(*, user: User, name: str = "cli", actor=None) -> tuple[ApiToken, str]:
    """A new bearer token; the key itself is returned once and never stored."""
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
