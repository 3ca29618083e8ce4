"""The informed-consent document for one therapy, generated from its catalogue entry.

Plain data and plain functions, no Django imports. The same therapy file, alternatives and template
version always give the same document, so its hash identifies exactly what the patient was shown.
"""

from typing import Any

from cellclinic.catalogue.schema import Alternative, EvidenceKind, Therapy, code_label

TEMPLATE_VERSION = "1.0"

# Risks every procedure of this kind carries, told to every patient whatever the therapy.
GENERAL_RARE_RISKS = (
    "A reaction to the local anaesthetic",
    "An infection that needs treatment with antibiotics",
    "Swelling",
    "Bruising",
    "A change in skin colour (darker or lighter skin) at the treated area or where skin was taken",
)
COMMON_AFTER_EFFECTS = (
    "The treated area, and any area where skin was taken, is often red, itchy and sore for a while. "
    "This usually settles by itself."
)
NO_TREATMENT = (
    "No treatment: you may choose not to have any treatment. Your care at the clinic does not change "
    "because of that choice."
)
UNUSED_CELLS = (
    "Any cells that are not used for your treatment are destroyed by the laboratory. They are never "
    "used for anything else, such as research or another person's treatment, unless you give separate "
    "written consent for that."
)
WITHDRAW = (
    "You may withdraw your consent at any time, before or during treatment, without giving a reason. "
    "Tell the clinic, or withdraw in the patient portal. Your treatment then stops, and your care at the "
    "clinic continues. Withdrawal is recorded; what was done before it cannot be undone."
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
INVESTIGATIONAL = (
    "This treatment is investigational: it has been studied in clinical trials but is not an approved "
    "treatment for this use. Its benefits and risks are less well known."
)
ALLOGENEIC_ORIGIN = (
    "No skin needs to be taken from you: this treatment is made from donor cells, not your own. The "
    "donor is screened and the donor's cells are tested for infections before the product is released."
)
OPTIONAL_CONSENTS = (
    ("photographs", OPTIONAL_PHOTOGRAPHS),
    ("outcome_reports", OPTIONAL_OUTCOME_REPORTS),
)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _section(key: str, heading: str, paragraphs: list[str], items: list[str] | None = None) -> dict:
    return {"key": key, "heading": heading, "paragraphs": paragraphs, "items": items or []}


def _procedure(therapy: Therapy) -> dict:
    methods = ", ".join(code_label(m).lower() for m in therapy.delivery.methods)
    paragraphs = [" ".join(therapy.summary.split())]
    paragraphs.append(_sentence(f"How it is given: {therapy.delivery.description} ({methods})"))
    paragraphs.append(_sentence(f"The cells: {therapy.cell_type}"))
    if therapy.investigational:
        paragraphs.insert(0, INVESTIGATIONAL)
    return _section("procedure", "The procedure", paragraphs)


def _harvest(therapy: Therapy) -> dict:
    if therapy.harvest is None:
        items = [
            _sentence(f"Donor testing: {c.expected}")
            for c in therapy.release_criteria
            if c.expected and "donor" in c.test.lower()
        ]
        return _section("harvest", "Where the cells come from", [ALLOGENEIC_ORIGIN], items)
    harvest = therapy.harvest
    paragraphs = [
        _sentence(f"The treatment is made from your own cells. Skin is taken from you first: {harvest.what}"),
        _sentence(f"Where the skin is taken from: {harvest.where}"),
    ]
    items = [_sentence(f"{figure.label or 'Size'}: {figure.text}") for figure in harvest.size]
    if harvest.count:
        items.insert(0, f"Number of samples: {harvest.count}.")
    return _section("harvest", "Taking the skin sample (harvest)", paragraphs, items)


def _course(therapy: Therapy, indication: str | None) -> dict:
    items: list[str] = []
    processing = therapy.processing
    if processing.duration is not None:
        items.append(
            _sentence(
                f"Preparing the cells ({code_label(processing.kind).lower()}): {processing.duration.text}"
            )
        )
    else:
        items.append(_sentence(f"Preparing the cells: {code_label(processing.kind)}"))
    sessions = therapy.sessions
    count = sessions.count.text
    plural = "" if sessions.count.single == 1 else "s"
    line = f"Treatment sessions: {count} session{plural}"
    if sessions.interval_days is not None:
        line += f", {sessions.interval_days.text} apart"
    items.append(_sentence(line))
    for schedule in therapy.follow_up:
        codes = {code.value for code in schedule.indications}
        if indication and codes and indication not in codes:
            continue
        visits = ", ".join(f"{visit.text} ({visit.label.lower()})" for visit in schedule.visits)
        items.append(
            _sentence(f"Follow-up visits ({schedule.name}), {code_label(schedule.anchor)}: {visits}")
        )
    paragraphs = [_sentence(" ".join(processing.description.split()))]
    return _section("course", "What to expect: the course of treatment", paragraphs, items)


def _risks(therapy: Therapy) -> dict:
    items = [f"{risk}." for risk in GENERAL_RARE_RISKS]
    items += [_sentence(f"Caution: {caution.text}") for caution in therapy.cautions]
    items += [
        _sentence(f"Reported in studies: {evidence.finding}")
        for evidence in therapy.evidence
        if evidence.kind == EvidenceKind.SAFETY
    ]
    paragraphs = [
        COMMON_AFTER_EFFECTS,
        "Rarely, the following can happen. The practitioner will talk you through each one:",
    ]
    return _section("risks", "Risks and after-effects", paragraphs, items)


def _alternatives(alternatives: list[Alternative]) -> dict:
    items = [_sentence(f"{a.name}: {a.summary}") for a in alternatives]
    items.append(NO_TREATMENT)
    return _section(
        "alternatives",
        "Other choices",
        ["Instead of this treatment, you could choose one of these. Each was discussed with you:"],
        items,
    )


def _storage(therapy: Therapy) -> dict:
    items = []
    for shelf_life in therapy.shelf_life:
        condition = f" {shelf_life.condition}" if shelf_life.condition else ""
        items.append(_sentence(f"The cells must be used within {shelf_life.text}{condition}"))
    storage = therapy.storage
    if storage is not None and storage.temperature_c is not None:
        items.append(_sentence(f"They are kept at {storage.temperature_c.text} until used"))
    if not items:
        items.append("The cells are prepared for use straight away and are not stored.")
    return _section("storage", "Storage of cells and unused cells", [UNUSED_CELLS], items)


def consent_document(
    therapy: Therapy,
    alternatives: list[Alternative],
    *,
    template_version: str = TEMPLATE_VERSION,
    indication: str | None = None,
) -> dict[str, Any]:
    """The consent document for THERAPY, with ALTERNATIVES to discuss, as plain JSON-able data.

    INDICATION, when given, limits the follow-up schedules to those for that indication.
    """
    title = f"Consent to treatment: {therapy.name}"
    sections = [
        _procedure(therapy),
        _harvest(therapy),
        _course(therapy, indication),
        _risks(therapy),
        _alternatives(alternatives),
        _storage(therapy),
        _section("withdrawal", "Your right to withdraw", [WITHDRAW]),
        _section(
            "optional",
            "Two separate choices",
            [OPTIONAL_NOTE],
            [text for _, text in OPTIONAL_CONSENTS],
        ),
    ]
    return {
        "title": title,
        "template_version": template_version,
        "therapy": {
            "code": therapy.code,
            "name": therapy.name,
            "version": therapy.version,
            "cell_source": therapy.cell_source.value,
            "investigational": therapy.investigational,
        },
        "indication": indication or "",
        "sections": sections,
        "optional_consents": [{"key": key, "text": text} for key, text in OPTIONAL_CONSENTS],
    }
