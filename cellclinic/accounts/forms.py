"""Forms for sign-in, staff management and the user's own account; the services do the writing."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from cellclinic.accounts.models import Site
from cellclinic.accounts.roles import ROLE_LABELS
from cellclinic.accounts.selectors import STATUS_ACTIVE, STATUS_INACTIVE
from cellclinic.core.forms import TextForm

PASSWORDS_DIFFER = "The two passwords differ."
PASSWORD_POLICY = "Long enough, not a common password, and not like the name, username or email."
INITIAL_PASSWORD_HELP = (
    f"{PASSWORD_POLICY} Give it to the person yourself: they should change it under "
    "“My account” when they first sign in."
)
STAFF_SEARCH_LABEL = "Search staff by name or username"
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the autocomplete hints a password manager expects."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


def _password_field(label: str, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        help_text=help_text,
    )


class _NewPasswordMixin:
    """A new password typed twice; the policy itself is applied by the service."""

    new_password_field = "password"
    again_field = "password_again"

    def clean(self):
        cleaned = super().clean()
        first = cleaned.get(self.new_password_field)
        again = cleaned.get(self.again_field)
        if first and again and first != again:
            self.add_error(self.again_field, PASSWORDS_DIFFER)
        return cleaned


class StaffFilterForm(TextForm):
    """Search and status filters for the staff list."""

    q = forms.CharField(label=STAFF_SEARCH_LABEL, required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Active and inactive"), (STATUS_ACTIVE, "Active"), (STATUS_INACTIVE, "Inactive")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "maxlength": 200}
        )

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"query": "", "status": ""}
        return {"query": self.cleaned_data["q"].strip(), "status": self.cleaned_data["status"]}


class StaffCreateForm(_NewPasswordMixin, TextForm):
    """A new staff member with their first role at one of the admin's sites."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
        help_text="Used to sign in. Letters, digits and @ . + - _ only.",
    )
    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput({"autocomplete": "off"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, widget=forms.TextInput({"autocomplete": "off"})
    )
    email = forms.EmailField(label="Email", required=False, widget=forms.EmailInput({"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=[("", "Choose a role…"), *ROLE_CHOICES])
    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), empty_label="Choose a site…")
    password = _password_field("Initial password", "new-password", PASSWORD_POLICY)
    password_again = _password_field("Initial password, again", "new-password")

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk


class RoleGrantForm(TextForm):
    """Another role for a staff member, at one of the admin's sites."""

    site = forms.ModelChoiceField(label="Site", queryset=Site.objects.none(), empty_label="Choose a site…")
    role = forms.ChoiceField(label="Role", choices=[("", "Choose a role…"), *ROLE_CHOICES])

    def __init__(self, *args, sites, held: set[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.held = held
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk

    def clean(self):
        cleaned = super().clean()
        site, role = cleaned.get("site"), cleaned.get("role")
        if site is not None and role and (site.pk, role) in self.held:
            self.add_error("role", f"They already hold this role at {site.name}.")
        return cleaned


class ReasonForm(TextForm):
    """Why an account is deactivated or reactivated; kept in the audit trail."""

    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Required; kept in the audit trail.",
    )


class PasswordChangeForm(_NewPasswordMixin, TextForm):
    """The signed-in user's own password: the current one, then the new one twice."""

    new_password_field = "new_password"
    again_field = "new_password_again"

    old_password = _password_field("Current password", "current-password")
    new_password = _password_field("New password", "new-password", PASSWORD_POLICY)
    new_password_again = _password_field("New password, again", "new-password")


class ApiTokenCreateForm(TextForm):
    """A name to tell a new API token apart from the others."""

    name = forms.CharField(
        label="Token name",
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Where you will use it, e.g. “lab label printer” or “my laptop”.",
    )


class PortalAccountForm(_NewPasswordMixin, TextForm):
    """A patient's portal account: the username and the initial password staff give the patient."""

    username = forms.CharField(
        label="Username",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = _password_field("Initial password", "new-password", INITIAL_PASSWORD_HELP)
    password_again = _password_field("Initial password, again", "new-password")

    def __init__(self, *args, suggestion: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["placeholder"] = suggestion
        self.fields["username"].help_text = (
            f"Leave it blank for {suggestion}, from the patient's name ({suggestion}2, {suggestion}3, … "
            "when that is taken), or type another."
        )


class PasswordResetForm(_NewPasswordMixin, TextForm):
    """An admin's new initial password for a staff member, with the reason."""

    password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Tell them yourself; they should change it under My account when they next sign in.",
    )
    password_again = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        help_text="Required; kept in the audit trail.",
        widget=forms.TextInput(),
    )


class SecondFactorForm(TextForm):
    """A six-digit code from the authenticator app, or one of the recovery codes."""

    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        help_text="The six digits your authenticator app shows now, or one of your recovery codes.",
    )
