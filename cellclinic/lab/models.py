"""The lab's records: specimens, custody, batches, QC, products with their DINs, and bedside checks.

Two parties share these records. Clinic staff know who the patient is; lab and QA staff work with the
chain-of-identity id alone. So the link from a chain-of-identity id to its patient lives in one model,
`ChainOfIdentity`, which only clinic staff read (it is not `lab_visible`); every other model here
carries the id and no name, MRN or contact detail, and is `lab_visible`, so lab staff see the rows of
the clinics their lab serves. What a lab page or API answer shows is built from these models only;
tests prove that no patient name reaches a lab reader.

Statuses follow the pure tables in `cellclinic.lab.states` and change only through their services.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cellclinic.accounts.access import SiteScopedManager
from cellclinic.lab import states

MAX_SLOTS = 500


def _choices(table) -> list[tuple[str, str]]:
    return [(state, table.label(state)) for state in table.states]


class LabProfile(models.Model):
    """What a cell-processing lab needs to label and schedule: its ISBT 128 facility and capacity."""

    site = models.OneToOneField(
        "accounts.Site",
        on_delete=models.CASCADE,
        related_name="lab_profile",
        limit_choices_to={"kind": "lab"},
    )
    facility_code = models.CharField(
        "ISBT 128 facility identification number",
        max_length=5,
        help_text="The five-character FIN assigned to this lab by ICCBBA, the first character of every DIN.",
    )
    processing_slots = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLOTS)],
        help_text="How many batches the lab can process at once (incubators or processing slots).",
    )

    def __str__(self) -> str:
        return f"{self.site.code} ({self.facility_code})"


class DinSequence(models.Model):
    """The last DIN sequence number a lab gave in one year; read and raised under a row lock."""

    lab = models.ForeignKey("accounts.Site", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "year"], name="lab_din_sequence_unique")]


class ChainOfIdentity(models.Model):
    """The clinic's link from a chain-of-identity id to the patient, consent and plan it stands for.

    The id (`coi`) names no person: it is what lab staff, labels and barcodes carry. Only clinic staff
    read this row.
    """

    AUDIT_OBJECT_TYPE = "chain_of_identity"

    coi = models.CharField("chain-of-identity id", max_length=24, unique=True)
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="chains_of_identity"
    )
    consent = models.ForeignKey(
        "consents.Consent", on_delete=models.PROTECT, related_name="chains_of_identity"
    )
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedManager()
    patient_path = "patient"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.coi


class DonorLot(models.Model):
    """Allogeneic donor cells at the lab: a product made from a lot without documented eligibility is
    never released."""

    AUDIT_OBJECT_TYPE = "donor_lot"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # the lab
    lot_number = models.CharField(max_length=40)
    therapy_code = models.CharField(max_length=64)
    screening = models.JSONField(
        default=dict,
        blank=True,
        help_text="Donor screening and testing results by test (DOMAIN.md §7), as recorded.",
    )
    eligibility_documented_at = models.DateTimeField(null=True, blank=True)
    eligibility_documented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_on = models.DateField()
    quantity = models.PositiveIntegerField(help_text="Doses or vials the lot holds.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["site", "lot_number"], name="donor_lot_unique")]

    def __str__(self) -> str:
        return f"Donor lot {self.lot_number}"

    @property
    def eligible(self) -> bool:
        return self.eligibility_documented_at is not None


class ReagentLot(models.Model):
    """A lot of a reagent or medium used in processing, for look-back from a reagent to its products."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # the lab
    name = models.CharField(max_length=120)
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["name", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name", "lot_number"], name="reagent_lot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} lot {self.lot_number}"


class Shipment(models.Model):
    """One box between a clinic and its lab, either way, with the courier and its temperature range."""

    class Direction(models.TextChoices):
        TO_LAB = "to_lab", "Clinic to lab"
        TO_CLINIC = "to_clinic", "Lab to clinic"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # the clinic
    lab = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    status = models.CharField(
        max_length=12, choices=_choices(states.SHIPMENT_STATES), default=states.SHIPMENT_PACKED, db_index=True
    )
    courier = models.CharField(max_length=120)
    tracking = models.CharField(max_length=80, blank=True)
    temperature_min_c = models.DecimalField(max_digits=5, decimal_places=1)
    temperature_max_c = models.DecimalField(max_digits=5, decimal_places=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Shipment #{self.pk} ({self.get_direction_display().lower()})"


class Specimen(models.Model):
    """Cells harvested at the clinic, known to the lab by its chain-of-identity id alone."""

    AUDIT_OBJECT_TYPE = "specimen"

    class Kind(models.TextChoices):
        PUNCH_BIOPSY = "punch_biopsy", "Punch biopsy"
        SHAVE_BIOPSY = "shave_biopsy", "Shave biopsy"
        SPLIT_THICKNESS = "split_thickness", "Split-thickness skin sample"
        SUCTION_BLISTER = "suction_blister", "Suction blister roofs"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # the clinic
    lab = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    chain = models.ForeignKey(ChainOfIdentity, on_delete=models.PROTECT, related_name="specimens")
    coi = models.CharField("chain-of-identity id", max_length=24, db_index=True)
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body_site = models.CharField(max_length=120, help_text="Where on the body the sample was taken.")
    size = models.CharField(max_length=60, help_text="For example: 3 × 4 mm, or 2 punches of 4 mm.")
    collected_at = models.DateTimeField()
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16,
        choices=_choices(states.SPECIMEN_STATES),
        default=states.SPECIMEN_COLLECTED,
        db_index=True,
    )
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="specimens"
    )
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        help_text="The specimen whose culture failed, when this one is a re-harvest.",
    )
    rejected_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [
            models.Index(fields=["lab", "status"], name="specimen_lab_status_idx"),
            # The newest-first list reads a page from this end rather than sorting every row in reach.
            models.Index(fields=["collected_at", "id"], name="specimen_collected_idx"),
        ]

    def __str__(self) -> str:
        return f"Specimen {self.coi}"


class Batch(models.Model):
    """One run of processing for one specimen (or donor lot) under the protocol version consented to."""

    AUDIT_OBJECT_TYPE = "batch"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # clinic, or lab
    lab = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=24, unique=True)
    specimen = models.ForeignKey(
        Specimen, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    donor_lot = models.ForeignKey(
        DonorLot, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    coi = models.CharField("chain-of-identity id", max_length=24, blank=True, db_index=True)
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    status = models.CharField(
        max_length=16, choices=_choices(states.BATCH_STATES), default=states.BATCH_PLANNED, db_index=True
    )
    slot_start = models.DateField(help_text="The first day the batch holds a processing slot.")
    ready_from = models.DateField(help_text="The earliest day the product is expected ready.")
    ready_to = models.DateField(help_text="The latest day the product is expected ready.")
    doses_planned = models.PositiveSmallIntegerField(default=1)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    failed_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_meaning = models.CharField(
        max_length=40, blank=True, help_text="What the QA reviewer's electronic signature means."
    )
    rejected_reason = models.TextField(blank=True)
    banked_vials = models.PositiveSmallIntegerField(default=0, help_text="Cells kept frozen for later doses.")
    banked_until = models.DateField(null=True, blank=True, help_text="The end of the storage consent.")
    reagent_lots = models.ManyToManyField(ReagentLot, blank=True, related_name="batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lab", "status"], name="batch_lab_status_idx"),
            models.Index(fields=["lab", "slot_start", "ready_to"], name="batch_lab_slot_idx"),
            models.Index(fields=["created_at", "id"], name="batch_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(specimen__isnull=False) | models.Q(donor_lot__isnull=False),
                name="batch_has_a_source",
            ),
            models.CheckConstraint(
                condition=models.Q(ready_from__lte=models.F("ready_to")), name="batch_window"
            ),
        ]

    def __str__(self) -> str:
        return f"Batch {self.code}"


class ProcessStep(models.Model):
    """One recorded step of processing: a passage, a count, a harvest of the culture."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="steps")
    name = models.CharField(max_length=120)
    passage = models.PositiveSmallIntegerField(null=True, blank=True)
    cell_count = models.DecimalField(
        max_digits=14, decimal_places=0, null=True, blank=True, help_text="Total viable cells counted."
    )
    viability_percent = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.TextField(blank=True)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "performed_at", "id"]


class Deviation(models.Model):
    """A departure from the protocol during processing, with its reason and what was done."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="deviations")
    description = models.TextField()
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["batch", "recorded_at", "id"]


class QCResult(models.Model):
    """One result of one release criterion of a batch, judged against its limit when entered.

    A result is never edited: a correction marks it corrected (with the reason) and a new row replaces it.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="qc_results")
    test = models.CharField(
        max_length=120, help_text="The release criterion's test, as the protocol names it."
    )
    value = models.CharField(max_length=120, help_text="The result as written: a number or a text.")
    unit = models.CharField(max_length=40, blank=True)
    limit = models.CharField(max_length=160, help_text="The criterion's limit as shown when it was judged.")
    status = models.CharField(
        max_length=10, choices=_choices(states.QC_RESULT_STATES), default=states.QC_PENDING, db_index=True
    )
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    corrected_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrects"
    )
    correction_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "entered_at", "id"]


class Product(models.Model):
    """One dose made by a batch, identified by its ISBT 128 DIN, from release to the patient."""

    AUDIT_OBJECT_TYPE = "product"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # clinic, or lab
    lab = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="products")
    chain = models.ForeignKey(
        ChainOfIdentity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        help_text="The patient's chain of identity; none for a donor (allogeneic) product.",
    )
    coi = models.CharField("chain-of-identity id", max_length=24, blank=True, db_index=True)
    donor_lot = models.ForeignKey(
        DonorLot, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    din = models.CharField("DIN", max_length=13, unique=True)
    din_flags = models.CharField(max_length=2, default="00")
    din_check = models.CharField(max_length=1)
    product_code = models.CharField(max_length=8)
    therapy_code = models.CharField(max_length=64)
    therapy_version = models.CharField(max_length=20)
    dose_number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=18,
        choices=_choices(states.PRODUCT_STATES),
        default=states.PRODUCT_AWAITING_RELEASE,
        db_index=True,
    )
    expires_at = models.DateTimeField()
    storage = models.CharField(max_length=80, help_text="How the product is kept, e.g. at 2–8 °C.")
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    administered_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(
        blank=True, help_text="Why it was rejected, recalled, quarantined or disposed of."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lab", "status", "expires_at"], name="product_lab_status_idx"),
            models.Index(fields=["site", "status"], name="product_site_status_idx"),
            models.Index(fields=["created_at", "id"], name="product_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["batch", "dose_number"], name="product_dose_unique"),
            models.CheckConstraint(
                condition=models.Q(chain__isnull=False) | models.Q(donor_lot__isnull=False),
                name="product_has_a_source",
            ),
        ]

    def __str__(self) -> str:
        return f"Product {self.din}"


class CustodyEvent(models.Model):
    """One hand-off or handling of a specimen or product: who, where, when, and at what temperature."""

    class Kind(models.TextChoices):
        COLLECTED = "collected", "Collected"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        RECEIVED = "received", "Received"
        REJECTED = "rejected", "Rejected"
        LOST = "lost", "Lost in transit"
        PROCESSING = "processing", "Processing started"
        RELEASED = "released", "Released"
        ISSUED = "issued", "Issued"
        QUARANTINED = "quarantined", "Quarantined"
        RECALLED = "recalled", "Recalled"
        EXPIRED = "expired", "Expired"
        ADMINISTERED = "administered", "Administered"
        DISPOSED = "disposed", "Disposed of"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # owner's site
    at_site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, related_name="+", help_text="Where it happened."
    )
    specimen = models.ForeignKey(
        Specimen, null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    temperature_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    condition = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    objects = SiteScopedManager()
    patient_path = None
    lab_visible = True

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(specimen__isnull=False) | models.Q(product__isnull=False),
                name="custody_event_has_a_subject",
            )
        ]


class BedsideCheck(models.Model):
    """One check at the bedside of a scanned patient identifier against a scanned DIN, passed or not."""

    AUDIT_OBJECT_TYPE = "bedside_check"

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")  # the clinic
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="bedside_checks")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="bedside_checks"
    )
    din_scanned = models.CharField(max_length=13)
    passed = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True, help_text="[{code, text}] when it did not pass.")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()

    objects = SiteScopedManager()
    patient_path = "patient"

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"Bedside check of {self.din_scanned} ({'passed' if self.passed else 'stopped'})"
