"""Sign-ins, sign-outs, failed sign-ins and lockouts, written to the access log as they happen.

No password is ever kept: of the credentials tried, only the username is, as typed (cut to a bounded
length), with the client's address.
"""

import hashlib

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from cellclinic.audit.services import bounded, record_access
from cellclinic.core.client import client_address

# The module that reports a wrong password typed after sign-in (signing, changing the password).
PASSWORD_ENTRY_SENDER = "cellclinic.accounts.throttle"


def sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite learns the SHA-256 function with which it extends the access log (see record_access)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "cellclinic_sha256",
            1,
            lambda text: None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest(),
            deterministic=True,
        )


def _address(request) -> dict:
    return {"address": client_address(request) if request is not None else None}


def _user_id_of(username: str) -> str:
    """The id of the account with this username, or "" when there is none."""
    model = get_user_model()
    found = model._default_manager.filter(**{model.USERNAME_FIELD: username}).values_list("pk", flat=True)
    pk = found.first() if username else None
    return "" if pk is None else str(pk)


def signed_in(sender, request, user, **kwargs) -> None:
    record_access(user, "user.sign_in", object_type="user", object_id=user.pk, details=_address(request))


def signed_out(sender, request, user, **kwargs) -> None:
    record_access(
        user,
        "user.sign_out",
        object_type="user",
        object_id=user.pk if user is not None else "",
        details=_address(request),
    )


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = bounded((credentials or {}).get("username", ""))
    after_sign_in = sender == PASSWORD_ENTRY_SENDER
    record_access(
        request if after_sign_in else None,
        "user.password_entry_failed" if after_sign_in else "user.sign_in_failed",
        object_type="user",
        object_id=_user_id_of(username),
        details={"username": username, **_address(request)},
    )


def locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    username = bounded(username)
    record_access(
        None,
        "user.locked_out",
        object_type="user",
        object_id=_user_id_of(username),
        details={"username": username, "address": ip_address},
    )


def connect() -> None:
    user_logged_in.connect(signed_in, dispatch_uid="audit.signed_in")
    user_logged_out.connect(signed_out, dispatch_uid="audit.signed_out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="audit.sign_in_failed")
    user_locked_out.connect(locked_out, dispatch_uid="audit.locked_out")
