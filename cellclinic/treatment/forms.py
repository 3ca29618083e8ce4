"""The form for laying out a plan; the service checks and writes."""

from django import forms

from cellclinic.core.forms import TextForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanForm(TextForm):
    """The day the cells are taken (the patient's own cells) or the first treatment (a donor product)."""

    harvest_date = forms.DateField(
        label="Harvest date",
        required=False,
        widget=DATE_INPUT,
        help_text="The day the patient's own cells are taken. Everything else follows from it.",
    )
    start_date = forms.DateField(
        label="First treatment date",
        required=False,
        widget=DATE_INPUT,
        help_text="The day of the first application of the donor product.",
    )

    def __init__(self, *args, autologous: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Show only the date this therapy uses; both when the therapy is unknown, so errors can show.
        if autologous is True:
            del self.fields["start_date"]
        elif autologous is False:
            del self.fields["harvest_date"]
