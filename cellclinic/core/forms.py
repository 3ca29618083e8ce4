"""Form plumbing shared by every app."""

from django import forms

from cellclinic.core.errors import InvalidInput


def add_service_errors(form: forms.Form, error: InvalidInput) -> None:
    """Put a service's per-field errors next to the matching visible inputs; the rest at the top."""
    for item in error.errors:
        field = form.fields.get(item.field)
        visible = field is not None and not field.widget.is_hidden
        form.add_error(item.field if visible else None, item.message)
    if not error.errors:
        form.add_error(None, error.detail)


YES_NO = [("yes", "Yes"), ("no", "No")]
PASSWORD_HELP = "Signing is the same as your handwritten signature; enter your password to confirm."


def tristate_value(value: str) -> bool | None:
    """'yes' is True, 'no' is False, anything else (not answered) is None."""
    return {"yes": True, "no": False}.get(value)


def password_field(label: str = "Your password") -> forms.CharField:
    """The password that makes an electronic signature, never stripped or remembered by the browser."""
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=PASSWORD_HELP,
    )
