"""The clinical vocabulary: indications, skin types and the screening checklist.

Plain data (DOMAIN.md §2 and §5), shared by the registry, the self-assessment and the catalogue.
"""

from dataclasses import dataclass

# The seven indications CellClinic serves, in the order a patient reads them.
INDICATIONS: dict[str, str] = {
    "burn": "Burns and scalds",
    "scar": "Scarring",
    "wound": "Wounds from accidents or surgery",
    "vitiligo": "Vitiligo",
    "hypopigmentation": "Hypopigmentation",
    "sun_damage": "Sun damage",
    "premature_ageing": "Premature ageing",
}

# Fitzpatrick skin type (DOMAIN.md §5, [S31]).
FITZPATRICK: dict[str, str] = {
    "I": "I — white; always burns, never tans",
    "II": "II — fair; always burns, tans with difficulty",
    "III": "III — average; sometimes mild burn, average tan",
    "IV": "IV — light brown; rarely burns, tans easily",
    "V": "V — brown; never burns, tans very easily",
    "VI": "VI — black; never burns",
}


@dataclass(frozen=True)
class ScreeningItem:
    code: str
    label: str
    why: str


# Relevant history (DOMAIN.md §2, screening checklist derived from the product labels).
HISTORY_ITEMS: tuple[ScreeningItem, ...] = (
    ScreeningItem(
        "immunosuppressed",
        "Immunosuppression or chemotherapy",
        "LAVIV warning; immunosuppressed patients were excluded from trials",
    ),
    ScreeningItem(
        "pregnant_or_breastfeeding",
        "Pregnant or breastfeeding",
        "Safety not established in pregnancy or breastfeeding",
    ),
    ScreeningItem(
        "bleeding_disorder_or_anticoagulants",
        "Bleeding disorder, or takes anticoagulants, aspirin or NSAIDs",
        "Higher risk of bleeding and bruising at biopsy and injection sites",
    ),
    ScreeningItem(
        "keloid_history",
        "Keloid or hypertrophic scarring",
        "Keloid or hypertrophic scar may form at the biopsy or injection site",
    ),
    ScreeningItem(
        "skin_cancer_or_malignancy",
        "Skin cancer at the site, or any malignancy",
        "Ask about skin cancer or any malignancy before cell therapy",
    ),
    ScreeningItem(
        "collagen_disorder",
        "Genetic collagen or fibroblast disorder (Ehlers-Danlos, Marfan, ...)",
        "Genetic collagen or fibroblast disorders are a LAVIV warning",
    ),
    ScreeningItem(
        "herpes_labialis", "Cold sores (herpes labialis)", "Facial treatment can trigger herpes labialis"
    ),
    ScreeningItem(
        "active_skin_infection",
        "Active skin infection at the site or donor site",
        "An infected site or donor site is a contraindication",
    ),
)

# Allergies that matter for harvest, processing and delivery (DOMAIN.md §2).
ALLERGY_ITEMS: tuple[ScreeningItem, ...] = (
    ScreeningItem("anaesthetic", "Local anaesthetic or adrenaline", "Used at harvest and treatment"),
    ScreeningItem("antiseptic", "Antiseptics (povidone-iodine, chlorhexidine)", "RECELL contraindication"),
    ScreeningItem(
        "antibiotic",
        "Antibiotics (gentamicin, amphotericin, vancomycin, amikacin)",
        "Used in culture media; LAVIV and Epicel contraindications",
    ),
    ScreeningItem("dmso", "DMSO", "Cryopreservation agent in cultured products"),
    ScreeningItem("animal_material", "Bovine, porcine or murine material", "Present in several products"),
    ScreeningItem("trypsin", "Trypsin", "Used to separate skin cells (RECELL, MKTP)"),
)

HISTORY_CODES = tuple(item.code for item in HISTORY_ITEMS)
ALLERGY_CODES = tuple(item.code for item in ALLERGY_ITEMS)


# Facts about the condition that the self-assessment asks and the catalogue's indications can require
# (DOMAIN.md §2 and §8): key -> kind. "months" and "weeks" are whole numbers; "yes_no" is a yes or no.
CONDITION_FACTS: dict[str, str] = {
    "vitiligo_stable_months": "months",
    "patches_diagnosed": "yes_no",
    "vitiligo_treatments_tried": "yes_no",
    "wound_open": "yes_no",
    "wound_infected": "yes_no",
    "months_since_injury": "months",
    "weeks_of_wound_care": "weeks",
    "wound_improving": "yes_no",
    "tendon_or_bone_exposed": "yes_no",
}
