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
