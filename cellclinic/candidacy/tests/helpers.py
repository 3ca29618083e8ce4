"""Answers as the API takes them, for tests that change one thing at a time."""

import copy

from cellclinic.candidacy.engine import FITNESS_KEY, HEALTH_KEYS

HEALTHY = {key: key == FITNESS_KEY for key in HEALTH_KEYS}

EXAMPLE = {
    "concerns": ["vitiligo"],
    "area": "face",
    "age": 34,
    "health": dict(HEALTHY),
    "condition": {"patches_diagnosed": True, "vitiligo_stable_months": 18, "vitiligo_treatments_tried": True},
    "expectation": "gradual_improvement",
}


def payload(**changes) -> dict:
    """The contract's example answers, with CHANGES (health and condition are merged, not replaced)."""
    data = copy.deepcopy(EXAMPLE)
    for key, value in changes.items():
        if key in {"health", "condition"} and isinstance(value, dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data
