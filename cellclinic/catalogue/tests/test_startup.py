"""Start-up reads the catalogue, adds the clinic's directories, and refuses to start on a bad file."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from cellclinic.catalogue import registry
from cellclinic.catalogue.loader import BUILTIN_THERAPY_DIR, therapy_files
from cellclinic.catalogue.tests.helpers import changed, write_therapy

BUILTIN_COUNT = len(therapy_files(BUILTIN_THERAPY_DIR))


@pytest.fixture(autouse=True)
def _configured_catalogue_afterwards(settings):
    configured = settings.CELLCLINIC_CATALOGUE_DIRS
    yield
    settings.CELLCLINIC_CATALOGUE_DIRS = configured
    registry.catalogue_install()


def test_it_installs_the_builtin_catalogue():
    catalogue = registry.catalogue_install([])

    assert registry.get_catalogue() is catalogue
    assert len(catalogue.therapies) == BUILTIN_COUNT


def test_it_refuses_to_start_with_a_malformed_file_and_keeps_the_previous_catalogue(tmp_path):
    before = registry.catalogue_install([])
    path = write_therapy(tmp_path, changed("min = 11, max = 22", "min = 22, max = 11"))

    with pytest.raises(ImproperlyConfigured) as caught:
        registry.catalogue_install([tmp_path])

    assert f"{path}: processing.duration.max: must be at least min (22), got 11" in str(caught.value)
    assert registry.get_catalogue() is before


def test_app_ready_reads_the_configured_directories(settings, tmp_path):
    write_therapy(tmp_path)
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]

    apps.get_app_config("catalogue").ready()

    catalogue = registry.get_catalogue()
    assert "test_therapy" in catalogue.therapies
    assert len(catalogue.therapies) == BUILTIN_COUNT + 1


def test_app_ready_fails_on_a_bad_configured_directory(settings, tmp_path):
    path = write_therapy(tmp_path, "code = ")
    settings.CELLCLINIC_CATALOGUE_DIRS = [str(tmp_path)]

    with pytest.raises(ImproperlyConfigured) as caught:
        apps.get_app_config("catalogue").ready()

    assert f"{path}: TOML syntax error" in str(caught.value)


def test_a_clinic_directory_can_add_alternatives(tmp_path):
    write_therapy(tmp_path)
    (tmp_path / "alternatives.toml").write_text(
        '[[alternatives]]\ncode = "chemical_peel"\nname = "Chemical peel"\nindications = ["sun_damage"]\n'
        'summary = "A peel."\nbetter_when = ["Only the surface is affected"]\n'
        'patient_summary = "A peel."\npatient_better_when = ["Only the surface of your skin is affected"]\n',
        encoding="utf-8",
    )

    catalogue = registry.catalogue_install([tmp_path])

    assert "chemical_peel" in catalogue.alternatives
    assert "dermal_filler" in catalogue.alternatives
    assert "alternatives" not in catalogue.therapies


def test_it_refuses_a_setting_that_is_not_a_list(settings, tmp_path):
    settings.CELLCLINIC_CATALOGUE_DIRS = str(tmp_path)

    with pytest.raises(ImproperlyConfigured, match="CELLCLINIC_CATALOGUE_DIRS must be a list of directories"):
        registry.catalogue_install()


def test_check_catalogue_lists_the_therapies_of_an_extra_directory(tmp_path, capsys):
    write_therapy(tmp_path)

    call_command("check_catalogue", str(tmp_path))

    out = capsys.readouterr().out
    assert "test_therapy  version 1" in out
    assert f"{BUILTIN_COUNT + 1} therapies and" in out


def test_check_catalogue_names_the_problems(tmp_path):
    path = write_therapy(tmp_path, name="wrong_name")

    with pytest.raises(CommandError) as caught:
        call_command("check_catalogue", str(tmp_path))

    assert f"{path}: code: must match the file name 'wrong_name', got 'test_therapy'" in str(caught.value)
