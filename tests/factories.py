"""factory_boy factories for every model, each making its rows the way the application does.

Rows without a pathway (sites, users and their roles, patients, assessments, enquiries, API tokens) are
created through their service, so each is validated and audited. The pathway's rows (consultations,
photos, consents, plans and their steps) are made by the pathway builder (cellclinic/demo/builder.py),
so a signed consent has its two signatures, its document hash and its stored PDF, and a plan its steps.
Extra keyword arguments to those factories are the builder's options (goals=, in_clinic=, in_days=, ...).

`.build()` gives unsaved rows with the same values where no database is needed (a consent as prepared,
a plan and its steps as laid out from the protocol); signatures need a database, so a signed or
withdrawn consent can only be created.

Every user a factory makes has PASSWORD, the password the builder signs with by default.
"""

import secrets
from datetime import UTC, datetime, timedelta

import factory
from django.conf import settings
from django.db import models
from django.utils import timezone
from factory.django import DjangoModelFactory

from cellclinic.accounts.models import ApiToken, Membership, Site, User
from cellclinic.accounts.roles import Role
from cellclinic.accounts.services import (
    TOKEN_PREFIX,
    api_token_create,
    membership_grant,
    site_create,
    user_create,
)
from cellclinic.audit.services import record_hash
from cellclinic.candidacy.answers import answers_check
from cellclinic.candidacy.engine import evaluate
from cellclinic.candidacy.models import Assessment, Enquiry
from cellclinic.candidacy.services import assessment_run, enquiry_create, get_ruleset
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.consents.document import TEMPLATE_VERSION
from cellclinic.consents.models import Consent
from cellclinic.consents.services import consent_document_for, patient_is_minor
from cellclinic.consultations.models import Consultation
from cellclinic.core.images import clean_image
from cellclinic.demo.builder import (
    DEFAULT_THERAPY,
    PLAN_IN_DAYS,
    at_stage,
    illustrative_photo,
    public_answers,
    therapy_for,
)
from cellclinic.demo.data import DEMO_PASSWORD
from cellclinic.patients.identifiers import mrn_format
from cellclinic.patients.models import Patient
from cellclinic.patients.services import patient_create
from cellclinic.photos.models import Photo
from cellclinic.photos.services import photo_upload
from cellclinic.treatment.models import PlanStep, TreatmentPlan
from cellclinic.treatment.schedule import lay_out

PASSWORD = DEMO_PASSWORD
DEFAULT_CONCERN = get_catalogue().therapies[DEFAULT_THERAPY].indication_codes[0].value


def _model_fields(model: type[models.Model], values: dict) -> dict:
    """The VALUES that are fields of MODEL: what an unsaved row takes (builder options are not)."""
    names = {f.name for f in model._meta.get_fields() if f.concrete}
    return {name: value for name, value in values.items() if name in names}


class ServiceFactory(DjangoModelFactory):
    """A factory whose rows are saved by a service; no second save() after post-generation."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True


# Sites, users, roles, tokens ---------------------------------------------------------------------------


class LabFactory(ServiceFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"L{n:03d}")
    name = factory.Sequence(lambda n: f"Cell Lab {n}")
    kind = Site.Kind.LAB
    lab = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return site_create(**kwargs)


class SiteFactory(LabFactory):
    """A clinic, with the lab that processes its cells."""

    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.Sequence(lambda n: f"Clinic {n}")
    kind = Site.Kind.CLINIC
    lab = factory.SubFactory(LabFactory)


class UserFactory(ServiceFactory):
    """A staff user without a role; see StaffFactory for one with a role at a site."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    kind = User.Kind.STAFF
    password = PASSWORD

    @classmethod
    def _build(cls, model_class, *args, password, **kwargs):
        user = model_class(**kwargs)
        user.set_password(password)
        return user

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return user_create(**kwargs)


class PortalUserFactory(UserFactory):
    """A patient's portal account (link it with patient_link_portal_user, or let the builder make one)."""

    kind = User.Kind.PATIENT


class MembershipFactory(ServiceFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.PRACTITIONER.value

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return membership_grant(**kwargs)


class StaffFactory(UserFactory):
    """A staff user with ROLE at SITE: a User and its Membership."""

    class Params:
        site = factory.SubFactory(SiteFactory)
        role = Role.PRACTITIONER.value

    membership = factory.RelatedFactory(
        MembershipFactory,
        factory_related_name="user",
        site=factory.SelfAttribute("..site"),
        role=factory.SelfAttribute("..role"),
    )


class PractitionerFactory(StaffFactory):
    pass


class NurseFactory(StaffFactory):
    class Params:
        role = Role.NURSE.value


class ApiTokenFactory(ServiceFactory):
    """A bearer token; the key, shown once, is on the returned row as `.key`."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(PractitionerFactory)
    name = "cli"

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = model_class(**kwargs, key_hash=ApiToken.hash_key(key), prefix=key[:8])
        token.key = key
        return token

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token, key = api_token_create(**kwargs)
        token.key = key
        return token


# Patients, self-assessments and requests ---------------------------------------------------------------


class PatientFactory(ServiceFactory):
    """A patient registered at a clinic, with a real MRN; ACTOR (default none) is who registered them."""

    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    mrn = factory.LazyAttributeSequence(lambda o, n: mrn_format(o.site.code, n + 1))
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    sex_at_birth = Patient.SexAtBirth.NOT_RECORDED
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    fitzpatrick_type = "III"
    presenting_concern = DEFAULT_CONCERN
    actor = None

    @classmethod
    def _build(cls, model_class, *args, actor, **kwargs):
        return model_class(**kwargs)

    @classmethod
    def _create(cls, model_class, *args, site, mrn, actor, **kwargs):
        return patient_create(site=site, actor=actor, data=kwargs)


def _result(answers: dict, source: str) -> dict:
    """What the rules answer to ANSWERS, exactly as assessment_run stores it."""
    _, parsed = answers_check(answers, detailed_allergies=source == Assessment.Source.PRACTITIONER)
    return evaluate(parsed, get_catalogue(), get_ruleset()).as_dict()


class AssessmentFactory(ServiceFactory):
    """A public self-assessment (fit and well, the default concern), run through the rules."""

    class Meta:
        model = Assessment

    source = Assessment.Source.PUBLIC
    answers = factory.LazyFunction(public_answers)
    result = factory.LazyAttribute(lambda o: _result(o.answers, o.source))
    outcome = factory.LazyAttribute(lambda o: o.result["outcome"])
    ruleset = factory.LazyAttribute(lambda o: o.result["ruleset"])
    patient = None
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, answers, source, patient, created_by, **computed):
        return assessment_run(answers=answers, source=source, patient=patient, actor=created_by)


class EnquiryFactory(ServiceFactory):
    """A request for a consultation at a clinic, with its self-assessment attached."""

    class Meta:
        model = Enquiry

    site = factory.SubFactory(SiteFactory)
    assessment = factory.SubFactory(AssessmentFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"enquirer{n}@example.org")
    phone = ""
    preferred_times = ""
    message = ""
    consent_to_contact = True

    @classmethod
    def _create(cls, model_class, *args, assessment, **kwargs):
        return enquiry_create(assessment=assessment, data=kwargs)


# The pathway: made by the builder ---------------------------------------------------------------------


class PathwayFactory(ServiceFactory):
    """A row of the pathway, built by the builder up to STAGE for PATIENT by PRACTITIONER (same clinic)."""

    class Meta:
        abstract = True

    site = factory.SubFactory(SiteFactory)
    patient = factory.SubFactory(PatientFactory, site=factory.SelfAttribute("..site"))
    practitioner = factory.SubFactory(PractitionerFactory, site=factory.SelfAttribute("..site"))

    @classmethod
    def _pathway(cls, stage, *, site, patient, practitioner, **options):
        return at_stage(stage, patient=patient, practitioner=practitioner, password=PASSWORD, **options)


class ConsultationFactory(PathwayFactory):
    """A consultation under way (findings, the rules re-run, expectations discussed); trait `decided`
    signs a decision to proceed with the therapy for the patient's concern."""

    class Meta:
        model = Consultation

    class Params:
        decided = factory.Trait(stage="decided")

    stage = "consultation_open"

    @classmethod
    def _build(cls, model_class, *args, stage, site, patient, practitioner, **options):
        consultation = model_class(
            site=site,
            patient=patient,
            practitioner=practitioner,
            indication=patient.presenting_concern,
            fitzpatrick_type=patient.fitzpatrick_type,
            **_model_fields(model_class, options),
        )
        if stage == "decided":
            therapy = therapy_for(consultation.indication, options.get("therapy"))
            consultation.status = Consultation.Status.DECIDED
            consultation.decision = Consultation.Decision.PROCEED
            consultation.therapy_code, consultation.therapy_version = therapy.code, therapy.version
            consultation.decided_at = datetime.now(UTC)
        return consultation

    @classmethod
    def _create(cls, model_class, *args, stage, **kwargs):
        return cls._pathway(stage, **kwargs).consultation


class PhotoFactory(ServiceFactory):
    """A baseline photograph of a consultation, uploaded (checked and re-encoded) by its practitioner."""

    class Meta:
        model = Photo

    consultation = factory.SubFactory(ConsultationFactory)
    site = factory.SelfAttribute("consultation.site")
    patient = factory.SelfAttribute("consultation.patient")
    uploaded_by = factory.SelfAttribute("consultation.practitioner")
    view = Photo.View.FRONT
    area = ""
    taken_on = None

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        clean = clean_image(
            illustrative_photo(), max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
        )
        photo = model_class(
            **kwargs,
            content_type=clean.content_type,
            width=clean.width,
            height=clean.height,
            sha256=clean.sha256,
        )
        photo.image.name = f"photos/{photo.uid}.{clean.extension}"
        return photo

    @classmethod
    def _create(cls, model_class, *args, consultation, view, area, taken_on, **derived):
        return photo_upload(
            consultation=consultation,
            actor=consultation.practitioner,
            data=illustrative_photo(),
            view=view,
            area=area,
            taken_on=taken_on,
        )


class ConsentFactory(PathwayFactory):
    """A consent prepared from the decided therapy's protocol; trait `signed` has it signed by the
    patient in the portal and countersigned, with both signatures and the PDF; `withdrawn` withdraws it
    after a plan was made (which stops the plan)."""

    class Meta:
        model = Consent

    class Params:
        signed = factory.Trait(stage="consent_signed")
        withdrawn = factory.Trait(stage="withdrawn")

    stage = "consent_prepared"

    @classmethod
    def _build(cls, model_class, *args, stage, site, patient, practitioner, **options):
        if stage != "consent_prepared":
            raise ValueError("a signed or withdrawn consent has signatures, which need a database: create it")
        consultation = ConsultationFactory.build(
            decided=True,
            site=site,
            patient=patient,
            practitioner=practitioner,
            therapy=options.get("therapy"),
        )
        therapy = get_catalogue().therapies[consultation.therapy_code]
        minor = patient_is_minor(patient, timezone.localdate())
        document = consent_document_for(consultation, therapy, minor=minor)
        return model_class(
            site=site,
            patient=patient,
            consultation=consultation,
            therapy_code=therapy.code,
            therapy_version=therapy.version,
            template_version=TEMPLATE_VERSION,
            document=document,
            document_hash=record_hash(document),
            minor=minor,
            created_by=practitioner,
        )

    @classmethod
    def _create(cls, model_class, *args, stage, **kwargs):
        return cls._pathway(stage, **kwargs).consent


class TreatmentPlanFactory(PathwayFactory):
    """A plan laid out from the protocol on a signed consent; trait `stopped` withdraws the consent."""

    class Meta:
        model = TreatmentPlan

    class Params:
        stopped = factory.Trait(stage="withdrawn")

    stage = "planned"

    @classmethod
    def _build(cls, model_class, *args, stage, site, patient, practitioner, **options):
        consent = ConsentFactory.build(
            site=site, patient=patient, practitioner=practitioner, therapy=options.get("therapy")
        )
        therapy = get_catalogue().therapies[consent.therapy_code]
        day = (options.get("today") or timezone.localdate()) + timedelta(
            days=options.get("in_days", PLAN_IN_DAYS)
        )
        harvest = day if therapy.autologous else None
        steps = lay_out(therapy, indication=consent.consultation.indication, start=day, harvest=harvest)
        return model_class(
            site=site,
            patient=patient,
            consultation=consent.consultation,
            consent=consent,
            therapy_code=therapy.code,
            therapy_version=therapy.version,
            harvest_date=harvest,
            start_date=steps[0].due,
            created_by=practitioner,
        )

    @classmethod
    def _create(cls, model_class, *args, stage, **kwargs):
        return cls._pathway(stage, **kwargs).plan


class PlanStepFactory(ServiceFactory):
    """Step SEQUENCE of a plan as the protocol lays it out (steps are never made one by one)."""

    class Meta:
        model = PlanStep

    plan = factory.SubFactory(TreatmentPlanFactory)
    sequence = 1

    @classmethod
    def _build(cls, model_class, *args, plan, sequence):
        therapy = get_catalogue().therapies[plan.therapy_code]
        steps = lay_out(
            therapy,
            indication=plan.consultation.indication,
            start=plan.harvest_date or plan.start_date,
            harvest=plan.harvest_date,
        )
        step = steps[sequence - 1]
        return model_class(
            plan=plan,
            sequence=sequence,
            kind=step.kind.value,
            label=step.label[:200],
            detail=step.detail,
            due_date=step.due,
            window_start=step.window_start,
            window_end=step.window_end,
            primary_endpoint=step.primary_endpoint,
        )

    @classmethod
    def _create(cls, model_class, *args, plan, sequence):
        return plan.steps.get(sequence=sequence)
