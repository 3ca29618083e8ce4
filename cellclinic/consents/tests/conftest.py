"""The pathway fixtures of the consultation tests (patient, consultation, decision, consent, photo)."""

from cellclinic.consultations.tests.conftest import *  # noqa: F403
from cellclinic.consultations.tests.conftest import THERAPY, jpeg_with_gps  # noqa: F401
