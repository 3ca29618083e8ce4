"""Form plumbing shared by every app."""

from django import forms

from cellclinic.core.errors import InvalidInput
from cellclinic.core.text import TextError, clean_text, clean_username

USERNAME_FIELDS = frozenset({"username"})


class CleanTextMixin:
    """Every text a person types passes core/text.py: normalised to NFC, refused with a control or a
    hidden text-direction character. A multi-line field (a Textarea) may hold tabs and line breaks; a
    username may not mix scripts; a password is taken exactly as typed."""

    def _clean_fields(self) -> None:
        super()._clean_fields()
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if not isinstance(value, str) or isinstance(field.widget, forms.PasswordInput):
                continue
            try:
                if name in USERNAME_FIELDS:
                    self.cleaned_data[name] = clean_username(value)
                else:
                    multiline = isinstance(field.widget, forms.Textarea)
                    self.cleaned_data[name] = clean_text(value, multiline=multiline)
            except TextError as error:
                self.add_error(name, str(error))


class TextForm(CleanTextMixin, forms.Form):
    """The project's form: text checked as CleanTextMixin says."""


class TextModelForm(CleanTextMixin, forms.ModelForm):
    """The project's model form: text checked as CleanTextMixin says."""


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
