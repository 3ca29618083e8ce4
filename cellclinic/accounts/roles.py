"""Roles and what each may do: a plain table, no Django imports."""

from enum import StrEnum


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    NURSE = "nurse"
    LAB_TECHNICIAN = "lab_technician"
    QA_REVIEWER = "qa_reviewer"
    CLINIC_ADMIN = "clinic_admin"


ROLE_LABELS: dict[Role, str] = {
    Role.PRACTITIONER: "Practitioner",
    Role.NURSE: "Nurse",
    Role.LAB_TECHNICIAN: "Lab technician",
    Role.QA_REVIEWER: "QA reviewer",
    Role.CLINIC_ADMIN: "Clinic admin",
}


class Permission(StrEnum):
    PATIENT_VIEW = "patient.view"
    PATIENT_EDIT = "patient.edit"
    PATIENT_SIGN = "patient.sign"
    AUDIT_VIEW = "audit.view"
    CATALOGUE_VIEW = "catalogue.view"
    STAFF_MANAGE = "staff.manage"
    ENQUIRY_HANDLE = "enquiry.handle"
    CONSULTATION_RUN = "consultation.run"
    PHOTO_UPLOAD = "photo.upload"
    CONSENT_PREPARE = "consent.prepare"
    CONSENT_WITHDRAW = "consent.withdraw"
    PLAN_CREATE = "plan.create"
    LAB_VIEW = "lab.view"
    SPECIMEN_COLLECT = "specimen.collect"
    PRODUCT_ADMINISTER = "product.administer"
    LAB_PROCESS = "lab.process"
    LAB_RELEASE = "lab.release"


# Lab and QA staff work on coded specimens and products; they have no need for patient names.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PRACTITIONER: frozenset(
        {
            Permission.PATIENT_VIEW,
            Permission.PATIENT_EDIT,
            Permission.PATIENT_SIGN,
            Permission.CATALOGUE_VIEW,
            Permission.ENQUIRY_HANDLE,
            Permission.CONSULTATION_RUN,
            Permission.PHOTO_UPLOAD,
            Permission.CONSENT_PREPARE,
            Permission.CONSENT_WITHDRAW,
            Permission.PLAN_CREATE,
            Permission.SPECIMEN_COLLECT,
            Permission.PRODUCT_ADMINISTER,
        }
    ),
    Role.NURSE: frozenset(
        {
            Permission.PATIENT_VIEW,
            Permission.PATIENT_EDIT,
            Permission.CATALOGUE_VIEW,
            Permission.ENQUIRY_HANDLE,
            Permission.PHOTO_UPLOAD,
            Permission.CONSENT_WITHDRAW,
            Permission.SPECIMEN_COLLECT,
            Permission.PRODUCT_ADMINISTER,
        }
    ),
    # A technician processes batches and enters QC; only a QA reviewer releases (never the processor).
    Role.LAB_TECHNICIAN: frozenset({Permission.CATALOGUE_VIEW, Permission.LAB_VIEW, Permission.LAB_PROCESS}),
    Role.QA_REVIEWER: frozenset({Permission.CATALOGUE_VIEW, Permission.LAB_VIEW, Permission.LAB_RELEASE}),
    Role.CLINIC_ADMIN: frozenset(
        {
            Permission.PATIENT_VIEW,
            Permission.PATIENT_EDIT,
            Permission.AUDIT_VIEW,
            Permission.CATALOGUE_VIEW,
            Permission.STAFF_MANAGE,
            Permission.ENQUIRY_HANDLE,
            Permission.CONSENT_WITHDRAW,
        }
    ),
}


# The permission a role must hold at a lab to be granted the permission asked for at every clinic the
# lab serves, on records that declare themselves free of patient identity (`lab_visible`). A permission
# missing here is never granted through the lab.
LAB_GRANTS: dict[Permission, Permission] = {
    Permission.PATIENT_VIEW: Permission.LAB_VIEW,
    Permission.LAB_VIEW: Permission.LAB_VIEW,
    Permission.LAB_PROCESS: Permission.LAB_PROCESS,
    Permission.LAB_RELEASE: Permission.LAB_RELEASE,
}


def role_allows(role: str, permission: Permission) -> bool:
    """True when ROLE grants PERMISSION; an unknown role grants nothing."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
