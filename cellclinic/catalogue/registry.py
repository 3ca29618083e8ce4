"""The catalogue this process serves: read and validated once at start-up, then shared read-only."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from cellclinic.catalogue.loader import (
    ALTERNATIVES_FILE_NAME,
    BUILTIN_ALTERNATIVES_FILE,
    BUILTIN_THERAPY_DIR,
    Catalogue,
    CatalogueError,
    catalogue_load,
)

SETTING = "CELLCLINIC_CATALOGUE_DIRS"

_installed: Catalogue | None = None


def configured_dirs() -> list[Path]:
    """The clinic's own catalogue directories, from settings.CELLCLINIC_CATALOGUE_DIRS."""
    value = getattr(settings, SETTING, [])
    if not isinstance(value, list | tuple):
        raise ImproperlyConfigured(f"{SETTING} must be a list of directories, got {value!r}")
    return [Path(item) for item in value]


def catalogue_read(extra_dirs: list[Path] | None = None) -> Catalogue:
    """The built-in files plus EXTRA_DIRS (by default the configured ones), every problem named."""
    dirs = configured_dirs() if extra_dirs is None else [Path(d) for d in extra_dirs]
    alternative_files = [BUILTIN_ALTERNATIVES_FILE]
    alternative_files += [d / ALTERNATIVES_FILE_NAME for d in dirs if (d / ALTERNATIVES_FILE_NAME).is_file()]
    try:
        return catalogue_load([BUILTIN_THERAPY_DIR, *dirs], alternative_files)
    except CatalogueError as exc:
        raise ImproperlyConfigured(str(exc)) from exc


def catalogue_install(extra_dirs: list[Path] | None = None) -> Catalogue:
    """Read the catalogue and serve it from now on; on any problem, raise and keep the previous one."""
    global _installed
    _installed = catalogue_read(extra_dirs)
    return _installed


def get_catalogue() -> Catalogue:
    """The installed catalogue (installed at start-up by CatalogueConfig.ready)."""
    return _installed if _installed is not None else catalogue_install()


@receiver(setting_changed)
def _forget_on_setting_change(*, setting: str, **kwargs) -> None:
    """A test that changes the directories gets a catalogue read from them on next use."""
    global _installed
    if setting == SETTING:
        _installed = None


def therapy_name(code: str, default: str | None = None) -> str:
    """The therapy's name in the installed catalogue; DEFAULT (the code itself unless given) if unknown."""
    therapy = get_catalogue().therapies.get(code)
    if therapy is not None:
        return therapy.name
    return code if default is None else default


def therapy_plain_name(code: str) -> str:
    """The therapy's name as a patient reads it (its `patient.name`); the code itself if unknown."""
    therapy = get_catalogue().therapies.get(code)
    return therapy.plain_name if therapy is not None else code
