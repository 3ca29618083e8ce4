"""The apps under cellclinic/ import only downwards: the real tree, and the checker on small fake trees."""

from pathlib import Path

import pytest

from tests.layers import FLOOR, LAYERS, NOT_APPS, check_tree

ROOT = Path(__file__).resolve().parent.parent

CLEAN_TREE = {
    "cellclinic/__init__.py": "",
    "cellclinic/urls.py": "from cellclinic.patients import views\nimport cellclinic.treatment.selectors\n",
    "cellclinic/templates/base.html": '{% load static %}{% include "components/field.html" %}\n',
    "cellclinic/templates/components/field.html": "{{ field }}\n",
    "cellclinic/core/__init__.py": "",
    "cellclinic/core/apps.py": "from django.apps import AppConfig\n",
    "cellclinic/core/states.py": "from enum import StrEnum\n\nfrom cellclinic.core import checkchar\n",
    "cellclinic/core/checkchar.py": "",
    "cellclinic/catalogue/__init__.py": "",
    "cellclinic/catalogue/apps.py": "",
    "cellclinic/catalogue/schema.py": "from pydantic import BaseModel\n",
    "cellclinic/catalogue/registry.py": "from django.conf import settings\n",
    "cellclinic/patients/__init__.py": "",
    "cellclinic/patients/apps.py": "",
    "cellclinic/patients/models.py": "from django.db import models\n",
    "cellclinic/patients/views.py": (
        "from cellclinic.catalogue.registry import get_catalogue\n"
        "from cellclinic.core import checkchar\n"
        "from . import models\n"
        "from .models import Patient\n"
    ),
    "cellclinic/patients/templatetags/__init__.py": "",
    "cellclinic/patients/templatetags/patient_tags.py": "",
    "cellclinic/patients/templates/patients/detail.html": (
        '{% extends "base.html" %}\n'
        "{% load patient_tags tz %}\n"
        "<a href=\"{% url 'patients:detail' 1 %}\">{% include 'patients/_row.html' %}</a>\n"
    ),
    "cellclinic/patients/tests/__init__.py": "",
    "cellclinic/patients/tests/test_views.py": "from cellclinic.treatment.selectors import plans\n",
    "cellclinic/patients/migrations/0001_initial.py": "import cellclinic.treatment.models\n",
    "cellclinic/treatment/__init__.py": "",
    "cellclinic/treatment/apps.py": "",
    "cellclinic/treatment/schedule.py": "from cellclinic.catalogue.schema import Therapy\n",
    "cellclinic/treatment/selectors.py": "from cellclinic.patients.models import Patient\n",
    "cellclinic/treatment/templatetags/__init__.py": "",
    "cellclinic/treatment/templatetags/treatment_tags.py": "",
    "cellclinic/treatment/templates/treatment/plan.html": (
        "{% load patient_tags treatment_tags %}{% url 'patients:detail' 1 %}\n"
        '{% include "patients/detail.html" %}\n'
    ),
}

VIOLATING_FILES = {
    "cellclinic/patients/views.py": (
        "from cellclinic.core import checkchar\n"
        "from cellclinic.treatment.selectors import plans\n"
        "\n"
        "\n"
        "def detail():\n"
        "    from cellclinic.treatment import selectors\n"
        "    import cellclinic.labs.models\n"
    ),
    "cellclinic/patients/templates/patients/detail.html": (
        "{% load tz %}\n"
        "{% load patient_tags treatment_tags %}\n"
        "<a href=\"{% url 'treatment:new' 1 %}\">new plan</a>\n"
        '{% include "treatment/plan.html" %}\n'
    ),
    "cellclinic/templates/base.html": "<a href=\"{% url 'patients:list' %}\">patients</a>\n",
    "cellclinic/labs/__init__.py": "",
    "cellclinic/labs/apps.py": "",
    "cellclinic/catalogue/states.py": "from enum import StrEnum\n\nfrom django.db import models\n",
    "cellclinic/treatment/schedule.py": "from cellclinic.catalogue.registry import get_catalogue\n",
}

EXPECTED_VIOLATIONS = [
    "cellclinic/labs: app labs is not in the layer table",
    "cellclinic/patients/views.py:2 imports cellclinic.treatment.selectors: "
    "patients (floor 2) may not import treatment (floor 6)",
    "cellclinic/patients/views.py:6 imports cellclinic.treatment.selectors: "
    "patients (floor 2) may not import treatment (floor 6)",
    "cellclinic/patients/views.py:7 imports cellclinic.labs.models: app labs is not in the layer table",
    "cellclinic/patients/templates/patients/detail.html:2 loads treatment_tags: "
    "patients (floor 2) may not use treatment (floor 6)",
    "cellclinic/patients/templates/patients/detail.html:3 links to 'treatment:new': "
    "patients (floor 2) may not use treatment (floor 6)",
    'cellclinic/patients/templates/patients/detail.html:4 includes "treatment/plan.html": '
    "patients (floor 2) may not use treatment (floor 6)",
    "cellclinic/templates/base.html:1 links to 'patients:list': "
    "the shared templates (floor 1) may not use patients (floor 2)",
    "cellclinic/catalogue/states.py:3 imports django.db: a pure module may not import Django",
    "cellclinic/treatment/schedule.py:1 imports cellclinic.catalogue.registry: "
    "a pure module may import only pure or plain-data modules",
]


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write the files under root and return root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_real_tree_imports_only_downwards() -> None:
    violations = check_tree(ROOT)
    assert violations == [], "layer violations:\n" + "\n".join(violations)


def test_clean_fake_tree_has_no_violations(tmp_path: Path) -> None:
    assert check_tree(write_tree(tmp_path, CLEAN_TREE)) == []


def test_fake_tree_reports_each_upward_import(tmp_path: Path) -> None:
    violations = check_tree(write_tree(tmp_path, {**CLEAN_TREE, **VIOLATING_FILES}))
    assert sorted(violations) == sorted(EXPECTED_VIOLATIONS), "\n".join(violations)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"cellclinic/patients/views.py": "from cellclinic import treatment\n"},
            "cellclinic/patients/views.py:1 imports cellclinic.treatment: "
            "patients (floor 2) may not import treatment (floor 6)",
        ),
        (
            {"cellclinic/core/views.py": "from cellclinic import urls\n"},
            "cellclinic/core/views.py:1 imports cellclinic.urls: "
            "core (floor 0) may not import the project module cellclinic.urls (above every app)",
        ),
        (
            {"cellclinic/patients/sub/views.py": "from ...treatment import selectors\n"},
            "cellclinic/patients/sub/views.py:1 imports cellclinic.treatment.selectors: "
            "patients (floor 2) may not import treatment (floor 6)",
        ),
        (
            {"cellclinic/core/states.py": "try:\n    import ninja\nexcept ImportError:\n    pass\n"},
            "cellclinic/core/states.py:2 imports ninja: a pure module may not import Django",
        ),
        (
            {"cellclinic/core/states.py": "from .views import X\n"},
            "cellclinic/core/states.py:1 imports cellclinic.core.views: "
            "a pure module may import only pure or plain-data modules",
        ),
        (
            {"cellclinic/accounts/views.py": "def home(request):\n    return redirect('patients:portal')\n"},
            "cellclinic/accounts/views.py:2 names the URL 'patients:portal': "
            "accounts (floor 1) may not use patients (floor 2)",
        ),
        (
            {"cellclinic/tools.py": ""},
            "cellclinic/tools.py: module tools is not in the layer table",
        ),
        (
            {"cellclinic/patients/tests/test_broken.py": "def broken(:\n"},
            "cellclinic/patients/tests/test_broken.py:1 does not parse: invalid syntax",
        ),
    ],
)
def test_fake_tree_reports_one_violation(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert check_tree(write_tree(tmp_path, {**CLEAN_TREE, **files})) == [expected]


def test_every_app_is_in_the_table_once() -> None:
    apps = sorted(p.parent.name for p in (ROOT / "cellclinic").glob("*/apps.py"))
    assert [app for app in apps if app not in FLOOR] == []
    assert sum(len(names) for names in LAYERS.values()) == len(FLOOR)
    assert NOT_APPS.isdisjoint(FLOOR)
