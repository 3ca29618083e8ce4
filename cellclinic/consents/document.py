"""The informed-consent document for one therapy, generated from its catalogue entry.

Plain data and plain functions, no Django imports. The same therapy file, steps, alternatives, clinic
details and template version always give the same document, so its hash identifies exactly what the
patient was shown.

The sections follow the basic elements of informed consent in 21 CFR 50.25(a), each under a stable
key (SECTION_KEYS): purpose and procedures, duration, foreseeable risks (general, per step, of the
product), benefits, alternatives, confidentiality, costs, injury, whom to contact, and voluntariness
with the right to withdraw; for cells, how long they are kept, at what temperature and what happens to
them at the end. An investigational therapy gets a research consent (`research` first); a young person
under 18 a section on consent by a parent or guardian with their own assent (`minor`).

Everything here is read by patients: the catalogue's patient texts, never its clinicians' wording,
and no internal marker or unexplained clinical word (cellclinic.catalogue.plain_words).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cellclinic.catalogue.plain_words import GLOSSARY
from cellclinic.catalogue.schema import (
    DAYS_PER_UNIT,
    Alternative,
    PatientLine,
    ProcessingKind,
    Step,
    StepCode,
    Therapy,
    with_unit,
)

TEMPLATE_VERSION = "2.0"
# How long a clinic keeps cultured cells unless its settings say otherwise (CELLCLINIC_CELL_BANKING_MONTHS).
DEFAULT_BANKING_MONTHS = 12
# A preparation this long or longer is a wait of months for the patient.
LONG_WAIT_DAYS = 28
# Where a reader's sentence ends, as cellclinic.catalogue.plain_words splits them.
SENTENCE_BREAK = re.compile(r"(?<=[.!?:;])\s+")

# The sections, in the order the document gives them; `research` and `minor` only when they apply.
SECTION_KEYS = (
    "research",
    "minor",
    "purpose",
    "duration",
    "recovery",
    "risks_general",
    "risks_steps",
    "risks_product",
    "benefits",
    "alternatives",
    "cells",
    "confidentiality",
    "costs",
    "injury",
    "contact",
    "voluntary",
    "optional",
)


# Research (21 CFR 50.25(a)(1), (a)(2), (a)(8) and (b)): what a study adds to a treatment consent.
RESEARCH_INTRO = (
    "You are being asked to take part in a research study. This treatment is still being studied: it "
    "has been tried in clinical trials but is not approved for this use, so its benefits and risks are "
    "less well known than for an approved treatment."
)
RESEARCH_ELEMENTS = (
    "The treatment described in this form is the experimental part: it is what the study is testing.",
    "You take part from your first visit until your last follow-up visit, as set out under "
    "“How long it takes”.",
    "Taking part is voluntary. If you say no, or leave the study later, you are not penalised and you "
    "lose nothing you would otherwise have; the rest of your care at the clinic continues.",
    "Because the treatment is still being studied, it may have risks that nobody knows about yet.",
    "You will be told of any new findings during the study that might change whether you want to stay in it.",
    "The study team may end your part in the study without your agreement, for example if staying in it "
    "is not safe for you; they will tell you why.",
    "If you decide to leave the study, tell the study team, so that they can check it is safe for you to "
    "stop and arrange any care you need.",
)
# 21 CFR 50.25(c), word for word, for a trial registered on ClinicalTrials.gov.
CLINICALTRIALS_GOV = (
    "A description of this clinical trial will be available on http://www.ClinicalTrials.gov, as required "
    "by U.S. Law. This Web site will not include information that can identify you. At most, the Web "
    "site will include a summary of the results. You can search this Web site at any time."
)

MINOR = (
    "Because you are under 18, a parent or guardian gives consent for this treatment with you, at the "
    "clinic. They sign this form, and you are asked whether you agree to the treatment yourself: this is "
    "called your assent. Where this form says “you”, it means the young person having the treatment."
)
MINOR_VIEW = (
    "Your practitioner explains the treatment to you both, and you can ask anything. Your view matters: "
    "tell your practitioner if you do not want the treatment. The form is signed at the clinic, not online."
)
MINOR_RESEARCH = "You will not be entered into the study unless you agree to it yourself."

COMMON_AFTER_EFFECTS = (
    "The treated area, and any place skin was taken from, is often red, itchy and sore for a while. "
    "This usually settles by itself."
)
GENERAL_LEAD = (
    "Less often, these can happen after any procedure like this. Your practitioner talks you through each:"
)
ANAESTHETIC_RISK = "A reaction to the local anaesthetic used to numb the skin."
GENERAL_RISKS = (
    "An infection that needs treatment with antibiotics.",
    "Swelling and bruising.",
    "Pain or discomfort during the procedure and for a few days after it.",
)
COLOUR_CHANGE = "A change in skin colour (darker or lighter skin) at the treated area"
STEPS_LEAD = "Each step of the treatment has its own risks:"
PRODUCT_LEAD = "Risks that come with this treatment in particular"
CAUTIONS_LEAD = ", and what your practitioner has checked with you before it:"

# Risks of the product that every consent for it must state (21 CFR 50.25(a)(2)); the catalogue's
# patient texts usually say them, and these sentences stand in when they do not.
CULTURE_FAILURE = (
    "Sometimes the cells do not grow well enough in the laboratory to make your treatment. If that "
    "happens, you may be asked to have another small skin sample taken (a repeat biopsy)."
)
LONG_WAIT = (
    "Growing your cells takes {duration}, so your first treatment is months after your skin sample is taken."
)
MISSED_SESSION = (
    "Each dose is prepared for the day of your session and keeps only {keeps}, so a missed session "
    "wastes that dose and delays your treatment."
)
ANIMAL_MATERIAL = (
    "Some materials used to make or prepare the cells come from animals. They cannot be guaranteed to be "
    "free of every infection, and anyone allergic to them can react."
)
DONOR_INFECTION = (
    "The product is made from donated cells. The donor is screened and tested for infections, but a very "
    "small risk of passing on an infection cannot be ruled out completely."
)
DONOR_SITE_SCAR = "Taking skin leaves a scar where it was taken; it usually fades but does not disappear."

# The product risks above: which therapies they apply to, and words that show a patient text says it.
PRODUCT_RISKS: dict[str, re.Pattern[str]] = {
    "culture_failure": re.compile(r"\bnot grow|\bfail", re.IGNORECASE),
    "long_wait": re.compile(r"\bmonths\b", re.IGNORECASE),
    "missed_session": re.compile(r"\bmiss", re.IGNORECASE),
    "animal_material": re.compile(
        r"\b(?:animals?|cattle|cows?|beef|pigs?|mice|mouse|bovine|porcine)\b", re.IGNORECASE
    ),
    "donor_infection": re.compile(
        r"\bdon(?:or|ated)\b.*\binfection|\binfection.*\bdon(?:or|ated)\b", re.IGNORECASE
    ),
    "donor_site_scar": re.compile(r"\bscar\b", re.IGNORECASE),
}
ANIMAL_SCREENING = frozenset({"animal_material", "trypsin"})

NO_BENEFIT_PROMISED = (
    "Results differ from person to person, and no result can be promised: you may not benefit."
)
BENEFITS_LEAD = "What the treatment may do for you, with the results published from studies:"
BENEFITS_DISCUSSED = "Your practitioner has talked with you about the results you can expect."
RESEARCH_BENEFIT = "Taking part may not help you; what the study learns may help other people in the future."

ALTERNATIVES_LEAD = (
    "Instead of this treatment, you could choose one of these. Each was discussed with you at your "
    "consultation:"
)
ALTERNATIVES_NONE = "Instead of this treatment, you may choose:"
NO_TREATMENT = (
    "No treatment: you may choose not to have any treatment. Your care at the clinic does not change "
    "because of that choice."
)

UNUSED_CELLS = (
    "Your cells are never used for anything else, such as research or another person's treatment, "
    "unless you give separate written consent for that."
)
BANKING = (
    "The laboratory keeps (banks) your cells for up to {months} from the day your skin sample is taken, "
    "so that each dose of your treatment can be made from them."
)
BANKING_END = (
    "If you withdraw your consent, when your treatment is finished, or at the end of those {months}, "
    "whichever comes first, any of your cells that are left are destroyed."
)
BEDSIDE = (
    "Your cells are prepared at the bedside and used straight away, in the same procedure. They are not "
    "stored (banked)."
)
BEDSIDE_END = (
    "Any cells left over at the end of the procedure are destroyed. If you withdraw your consent before "
    "the procedure, no skin is taken."
)
ALLOGENEIC_ORIGIN = (
    "No skin needs to be taken from you: this treatment is made from donor cells, not your own. The "
    "donor is screened, and the donor's cells are tested for infections, before the product is released."
)
DONOR_PRODUCT_END = (
    "None of your own cells are stored. Any product not used for you is thrown away, and if you withdraw "
    "your consent no more is ordered or used for you."
)

CONFIDENTIAL = (
    "Your records are confidential. Only the people caring for you, and staff who check the quality and "
    "safety of care, can read them."
)
CODED_CELLS = (
    "Your cells, and the doses made from them, are labelled with a code rather than your name, so that "
    "they are always matched to you."
)
TRACED_PRODUCT = "The product used for you is recorded in your records, so that it can always be traced."
CONFIDENTIAL_CHOICES = (
    "Photographs, and the use of your results in reports, need your separate choices at the end of this form."
)
RESEARCH_RECORDS = (
    "Because this treatment is part of a study, the study team, the research ethics committee that "
    "reviewed the study, and the bodies that oversee research, such as the US Food and Drug "
    "Administration, may look at your records to check that the study is done properly. Your name is not "
    "used in any report of the study."
)

COSTS = (
    "The costs of your treatment are discussed with you before you sign, and are written on your "
    "treatment plan or quote."
)
COSTS_EXTRA = (
    "If anything more is needed, such as another session, its cost is discussed with you before it is done."
)
RESEARCH_COSTS = "Ask the study team whether taking part costs you anything more than usual care would."

INJURY = (
    "If you think the treatment has harmed you, contact {clinic} straight away. In an emergency, call "
    "the emergency services."
)
INJURY_CARE = (
    "The clinic sees you, treats the problem or arranges treatment elsewhere, and records what happened."
)
INJURY_COMPENSATION = (
    "Ask the clinic whether any payment (compensation) is available for an injury; you will be told in "
    "writing. Signing this form does not take away any of your legal rights."
)

CONTACT = "If you have any question about your treatment, or think it has harmed you, contact {clinic}:"
CONTACT_AT_VISITS = "You can also ask at any visit."
RESEARCH_CONTACT = (
    "For questions about the study, or about your rights as someone taking part in research, ask the "
    "clinic: it puts you in touch with the study team and with the research ethics committee that "
    "reviewed the study."
)

VOLUNTARY = (
    "Whether you have this treatment is your choice. Saying no does not change the rest of your care at "
    "the clinic."
)
WITHDRAW = (
    "You may withdraw your consent at any time, before or during treatment, without giving a reason. "
    "Tell the clinic, or withdraw in your portal. Your treatment then stops, and the rest of your care "
    "at the clinic continues. Withdrawal is recorded; what was done before it cannot be undone."
)

OPTIONAL_PHOTOGRAPHS = (
    "Photographs for my clinical record: I agree that the clinic may take photographs of the treated "
    "area before, during and after treatment and keep them in my clinical record to follow my progress."
)
OPTIONAL_OUTCOME_REPORTS = (
    "Anonymous use of my outcomes in reports: I agree that my treatment results may be included, "
    "without my name or anything else that identifies me, in reports on how well treatments work."
)
OPTIONAL_NOTE = (
    "These two choices are separate from your consent to the treatment. You may say yes or no to each; "
    "saying no does not change your treatment."
)
OPTIONAL_CONSENTS = (
    ("photographs", OPTIONAL_PHOTOGRAPHS),
    ("outcome_reports", OPTIONAL_OUTCOME_REPORTS),
)

PREPARE_CULTURE = "Growing your cells in the laboratory {takes}; your first treatment session is after that."
PREPARE_BEDSIDE = (
    "Your cells are prepared at the bedside during the same visit{during}; there is no wait for a laboratory."
)
PREPARE_DONOR = (
    "The product is made beforehand from donor cells, so there is no wait for cells to be prepared from you."
)
FOLLOW_UP_ANCHOR = {
    "first_treatment": "after your first treatment",
    "last_treatment": "after your last treatment",
}
FOLLOW_UP_NONE = "Your team arranges follow-up visits to check how you are healing."


@dataclass(frozen=True)
class ClinicContact:
    """Who the patient contacts with questions and about an injury, as the clinic's record gives it."""

    name: str
    phone: str = ""
    email: str = ""
    address: str = ""

    @property
    def called(self) -> str:
        return self.name.strip() or "the clinic"


# Helpers -----------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.split())


def _sentence(text: str) -> str:
    text = _plain(text)
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    text = _plain(text)
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _join(parts: list[str]) -> str:
    """a, b and c."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _notes(part: str) -> list[str]:
    """Plain explanations of the clinical words in PART that PART does not explain itself."""
    lowered = part.lower()
    notes: list[str] = []
    for term in GLOSSARY:
        if term.pattern.search(part) and not any(plain in lowered for plain in term.plain):
            note = term.explanation or term.plain[0]
            if note not in notes:
                notes.append(note)
    return notes


def explained(name: str) -> str:
    """NAME with a plain explanation, in brackets, of each clinical word it holds and does not explain.

    Each sentence of NAME (a title may have a colon) carries the explanations of its own words.
    """
    parts = []
    for part in SENTENCE_BREAK.split(_plain(name)):
        body, end = (part[:-1], part[-1]) if part[-1] in ".!?:;" else (part, "")
        notes = _notes(body)
        if notes and body.endswith(")"):
            parts.append(f"{body[:-1]}, {', '.join(notes)}){end}")
        else:
            parts.append(f"{body} ({', '.join(notes)}){end}" if notes else part)
    return " ".join(parts)


def applies(codes: Iterable[Any], indication: str | None) -> bool:
    """True when something scoped to CODES (none: every indication) concerns INDICATION."""
    values = {getattr(code, "value", code) for code in codes}
    return not values or indication is None or indication in values


def _lines(lines: Iterable[PatientLine], indication: str | None) -> list[str]:
    return [_sentence(line.text) for line in lines if applies(line.indications, indication)]


def _section(key: str, heading: str, paragraphs: list[str], items: list[str] | None = None) -> dict:
    return {"key": key, "heading": heading, "paragraphs": paragraphs, "items": items or []}


def _steps(therapy: Therapy, steps: Mapping[str, Step]) -> list[Step]:
    """The therapy's steps, in order, as the steps file defines them (unknown ones left out)."""
    found = (steps.get(getattr(code, "value", code)) for code in therapy.steps)
    return [step for step in found if step is not None]


def _has_harvest(therapy: Therapy) -> bool:
    return therapy.harvest is not None or StepCode.HARVEST in therapy.steps


def _cultured(therapy: Therapy) -> bool:
    return therapy.processing.kind == ProcessingKind.CULTURE


def _preparation_days(therapy: Therapy) -> float:
    duration = therapy.processing.duration
    if duration is None:
        return 0
    longest = duration.value if duration.value is not None else (duration.max or duration.min or 0)
    return longest * DAYS_PER_UNIT[duration.unit.value]


def _several_sessions(therapy: Therapy) -> bool:
    count = therapy.sessions.count
    return max(n for n in (count.value, count.min, count.max, 1) if n is not None) > 1


def _months(months: int) -> str:
    return with_unit(months, "months")


def _temperature(therapy: Therapy) -> str:
    """The storage temperature from the protocol, with what it means in plain words; empty if none."""
    storage = therapy.storage
    if storage is None or storage.temperature_c is None:
        return ""
    band = storage.temperature_c
    if band.max <= 0:
        plain = "frozen"
    elif band.max <= 10:
        plain = "chilled, not frozen"
    else:
        plain = "at room temperature"
    return f"{band.text} ({plain})"


SHELF_LIFE_FROM = {
    "formulation": "after it is made ready",
    "release": "after the laboratory releases it",
    "manufacture": "after it is made",
    "preparation": "after it is prepared",
    "thawing": "after it is thawed",
    "opening": "after its pack is opened",
    "cryopreservation": "after it is frozen",
}


def _keeps(therapy: Therapy) -> list[str]:
    """How long the product keeps, in plain words: ["24 hours after it is made ready", ...]."""
    return [
        f"{with_unit(life.max, life.unit.value)} {SHELF_LIFE_FROM.get(life.after.value, 'after it is made')}"
        + (f" ({_plain(life.condition)})" if life.condition else "")
        for life in therapy.shelf_life
    ]


# What each product risk needs -----------------------------------------------------------------------------


def product_risks(therapy: Therapy) -> list[str]:
    """The product risks (keys of PRODUCT_RISKS) a consent for THERAPY must state, in order."""
    screened = {
        item.screening.value
        for item in (*therapy.contraindications, *therapy.cautions)
        if item.screening is not None
    }
    wanted = {
        "culture_failure": _cultured(therapy),
        "long_wait": _cultured(therapy) and _preparation_days(therapy) >= LONG_WAIT_DAYS,
        "missed_session": _cultured(therapy) and bool(therapy.shelf_life) and _several_sessions(therapy),
        "animal_material": bool(screened & ANIMAL_SCREENING),
        "donor_infection": not therapy.autologous,
        "donor_site_scar": _has_harvest(therapy),
    }
    return [key for key in PRODUCT_RISKS if wanted[key]]


def _product_risk_text(key: str, therapy: Therapy) -> str:
    if key == "long_wait":
        return LONG_WAIT.format(duration=therapy.processing.duration.text)
    if key == "missed_session":
        life = therapy.shelf_life[0]
        return MISSED_SESSION.format(keeps=with_unit(life.max, life.unit.value))
    return {
        "culture_failure": CULTURE_FAILURE,
        "animal_material": ANIMAL_MATERIAL,
        "donor_infection": DONOR_INFECTION,
        "donor_site_scar": DONOR_SITE_SCAR,
    }[key]


# The sections ----------------------------------------------------------------------------------------------


def _research(therapy: Therapy, minor: bool) -> dict:
    study = therapy.study
    paragraphs = [RESEARCH_INTRO]
    if study is not None:
        paragraphs.append(_plain(study.statement))
        paragraphs.append(_sentence(f"The study is called {explained(study.title)}"))
        paragraphs.append(f"Its registry number is {study.registry}.")
    items = list(RESEARCH_ELEMENTS)
    if minor:
        items.append(MINOR_RESEARCH)
    if study is not None and study.registry.startswith("NCT"):
        items.append(CLINICALTRIALS_GOV)
    return _section("research", "This is research", paragraphs, items)


def _minor() -> dict:
    return _section("minor", "Consent for a young person under 18", [MINOR, MINOR_VIEW])


def _purpose(therapy: Therapy, steps: list[Step], indication: str | None) -> dict:
    paragraphs = [_plain(therapy.patient.about)]
    if steps:
        names = [_lower_first(step.name) for step in steps]
        if len(names) == 1:
            paragraphs.append(_sentence(f"The treatment has one main step: {names[0]}"))
        else:
            paragraphs.append(
                _sentence(f"The treatment has {len(names)} steps, in this order: {', then '.join(names)}")
            )
    numbed = [_lower_first(step.name) for step in steps if step.anaesthetic]
    if numbed:
        paragraphs.append(_sentence(f"The skin is numbed with a local anaesthetic for {_join(numbed)}"))
    paragraphs.append("How it is done:")
    return _section(
        "purpose",
        "What the treatment is for and what it involves",
        paragraphs,
        _lines(therapy.patient.how, indication),
    )


def _preparation(therapy: Therapy) -> str:
    processing = therapy.processing
    duration = processing.duration.text if processing.duration is not None else ""
    if processing.kind == ProcessingKind.CULTURE:
        return PREPARE_CULTURE.format(takes=f"takes {duration}" if duration else "comes first")
    if processing.kind == ProcessingKind.POINT_OF_CARE:
        return PREPARE_BEDSIDE.format(during=f", which takes about {duration}" if duration else "")
    return PREPARE_DONOR


def _sessions(therapy: Therapy) -> str:
    sessions = therapy.sessions
    if sessions.count.single == 1:
        return "You have one treatment session."
    line = f"You have {sessions.count.text} treatment sessions"
    if sessions.interval_days is not None:
        line += f", {sessions.interval_days.text} apart"
    return line + "."


def _follow_up(therapy: Therapy, indication: str | None) -> list[str]:
    items = []
    for schedule in therapy.follow_up:
        if not applies(schedule.indications, indication):
            continue
        anchor = FOLLOW_UP_ANCHOR[schedule.anchor.value]
        visits = _join([visit.text for visit in schedule.visits])
        items.append(f"Follow-up visits: at {visits} {anchor}.")
        items.append(f"Your follow-up ends {schedule.visits[-1].text} {anchor}.")
    return items or [FOLLOW_UP_NONE]


def _duration(therapy: Therapy, indication: str | None) -> dict:
    items = [_preparation(therapy), _sessions(therapy), *_follow_up(therapy, indication)]
    return _section("duration", "How long it takes", [], items)


def _recovery(therapy: Therapy, steps: list[Step], indication: str | None) -> dict:
    items = _lines(therapy.patient.recovery, indication)
    for step in steps:
        items += [line for line in _lines(step.recovery, indication) if line not in items]
    return _section("recovery", "Recovery and aftercare", [], items)


def _risks_general(therapy: Therapy, steps: list[Step]) -> dict:
    items = [ANAESTHETIC_RISK] if any(step.anaesthetic for step in steps) else []
    items += GENERAL_RISKS
    colour = COLOUR_CHANGE + (" or where skin was taken" if _has_harvest(therapy) else "")
    items.append(colour + ".")
    return _section(
        "risks_general", "Risks of any procedure like this", [COMMON_AFTER_EFFECTS, GENERAL_LEAD], items
    )


def _risks_steps(steps: list[Step], indication: str | None) -> dict:
    items = []
    for step in steps:
        risks = _lines(step.risks, indication)
        if risks:
            items.append(f"{_sentence(step.name)} {' '.join(risks)}")
    return _section("risks_steps", "Risks of each step", [STEPS_LEAD] if items else [], items)


def _risks_product(therapy: Therapy, indication: str | None) -> dict:
    items = _lines(therapy.patient.risks, indication)
    said = " ".join(items)
    for key in product_risks(therapy):
        if not PRODUCT_RISKS[key].search(said):
            items.append(_product_risk_text(key, therapy))
    cautions = [
        _sentence(caution.plain)
        for caution in therapy.cautions
        if not caution.handling and applies(caution.indications, indication)
    ]
    items += [line for line in dict.fromkeys(cautions) if line not in items]
    paragraphs = [PRODUCT_LEAD + (CAUTIONS_LEAD if cautions else ":")]
    return _section("risks_product", "Risks of this treatment", paragraphs, items)


def _benefits(therapy: Therapy, indication: str | None) -> dict:
    items = _lines(therapy.patient.benefits, indication)
    paragraphs = [BENEFITS_LEAD] if items else [BENEFITS_DISCUSSED]
    closing = [NO_BENEFIT_PROMISED]
    if therapy.investigational:
        closing.append(RESEARCH_BENEFIT)
    return _section("benefits", "Possible benefits", paragraphs + closing, items)


def _alternative(alternative: Alternative) -> str:
    line = f"{explained(alternative.name)}: {_sentence(alternative.patient_summary)}"
    better = [_lower_first(text).rstrip(".") for text in alternative.patient_better_when]
    if better:
        line += f" It may suit you better when {'; or '.join(better)}."
    return line


def _alternatives(alternatives: list[Alternative]) -> dict:
    items = [_alternative(a) for a in alternatives]
    items.append(NO_TREATMENT)
    lead = ALTERNATIVES_LEAD if alternatives else ALTERNATIVES_NONE
    return _section("alternatives", "Other choices", [lead], items)


def _cells(therapy: Therapy, banking_months: int) -> dict:
    temperature = _temperature(therapy)
    keeps = _keeps(therapy)
    if not therapy.autologous:
        items = []
        if temperature:
            items.append(f"The product is stored at {temperature} until it is used.")
        items += [f"It must be used within {line}." for line in keeps]
        paragraphs = [ALLOGENEIC_ORIGIN, DONOR_PRODUCT_END]
        return _section(
            "cells", "The donor product: where it comes from and how it is kept", paragraphs, items
        )
    if therapy.processing.kind == ProcessingKind.POINT_OF_CARE:
        return _section(
            "cells",
            "Your cells: how they are kept and what happens to them",
            [BEDSIDE, BEDSIDE_END, UNUSED_CELLS],
        )
    months = _months(banking_months)
    items = []
    if temperature:
        items.append(f"Each dose is kept at {temperature} from when it is made ready until it is used.")
    items += [f"Each dose must be used within {line}." for line in keeps]
    paragraphs = [BANKING.format(months=months), BANKING_END.format(months=months), UNUSED_CELLS]
    return _section("cells", "Your cells: how they are kept and what happens to them", paragraphs, items)


def _confidentiality(therapy: Therapy) -> dict:
    paragraphs = [CONFIDENTIAL, CODED_CELLS if therapy.autologous else TRACED_PRODUCT, CONFIDENTIAL_CHOICES]
    if therapy.investigational:
        paragraphs.append(RESEARCH_RECORDS)
    return _section("confidentiality", "Your records and privacy", paragraphs)


def _costs(therapy: Therapy) -> dict:
    paragraphs = [COSTS, COSTS_EXTRA]
    if therapy.investigational:
        paragraphs.append(RESEARCH_COSTS)
    return _section("costs", "Costs", paragraphs)


def _injury(clinic: ClinicContact) -> dict:
    return _section(
        "injury",
        "If you are harmed",
        [INJURY.format(clinic=clinic.called), INJURY_CARE, INJURY_COMPENSATION],
    )


def _contact(therapy: Therapy, clinic: ClinicContact) -> dict:
    items = []
    if clinic.phone.strip():
        items.append(f"Phone: {_plain(clinic.phone)}")
    if clinic.email.strip():
        items.append(f"Email: {_plain(clinic.email)}")
    if clinic.address.strip():
        items.append(
            "Address: " + ", ".join(_plain(line) for line in clinic.address.splitlines() if line.strip())
        )
    contact = CONTACT.format(clinic=clinic.called)
    paragraphs = [contact if items else contact.removesuffix(":") + "."]
    paragraphs.append(CONTACT_AT_VISITS)
    if therapy.investigational:
        paragraphs.append(RESEARCH_CONTACT)
    return _section("contact", "Questions and who to contact", paragraphs, items)


def _voluntary() -> dict:
    return _section("voluntary", "Your choice, and your right to withdraw", [VOLUNTARY, WITHDRAW])


def consent_document(
    therapy: Therapy,
    alternatives: list[Alternative],
    *,
    template_version: str = TEMPLATE_VERSION,
    indication: str | None = None,
    steps: Mapping[str, Step] | None = None,
    clinic: ClinicContact | None = None,
    banking_months: int = DEFAULT_BANKING_MONTHS,
    minor: bool = False,
) -> dict[str, Any]:
    """The consent document for THERAPY as plain JSON-able data.

    ALTERNATIVES are those discussed at the consultation; INDICATION, when given, limits every text
    scoped to some indications to those for it. STEPS are the catalogue's step definitions; CLINIC is
    whom to contact; BANKING_MONTHS how long cultured cells are kept; MINOR that the patient was under
    18 on the day the consent was prepared (a parent or guardian consents, with the young person's
    assent).
    """
    clinic = clinic or ClinicContact(name="")
    own_steps = _steps(therapy, steps or {})
    research = therapy.investigational
    lead = "Consent to take part in research" if research else "Consent to treatment"
    sections = [_research(therapy, minor)] if research else []
    if minor:
        sections.append(_minor())
    sections += [
        _purpose(therapy, own_steps, indication),
        _duration(therapy, indication),
        _recovery(therapy, own_steps, indication),
        _risks_general(therapy, own_steps),
        _risks_steps(own_steps, indication),
        _risks_product(therapy, indication),
        _benefits(therapy, indication),
        _alternatives(alternatives),
        _cells(therapy, banking_months),
        _confidentiality(therapy),
        _costs(therapy),
        _injury(clinic),
        _contact(therapy, clinic),
        _voluntary(),
        _section(
            "optional", "Two separate choices", [OPTIONAL_NOTE], [text for _, text in OPTIONAL_CONSENTS]
        ),
    ]
    study = therapy.study
    return {
        "title": f"{lead}: {explained(therapy.plain_name)}",
        "template_version": template_version,
        "therapy": {
            "code": therapy.code,
            "name": therapy.name,
            "version": therapy.version,
            "cell_source": therapy.cell_source.value,
            "investigational": therapy.investigational,
        },
        "indication": indication or "",
        "research": research,
        "study": {"title": study.title, "registry": study.registry} if research and study else None,
        "minor": minor,
        "sections": sections,
        "optional_consents": [{"key": key, "text": text} for key, text in OPTIONAL_CONSENTS],
    }
