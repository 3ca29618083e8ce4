"""Reading the catalogue on behalf of a user: the one access gate for pages and API alike."""

from dataclasses import dataclass

from django.http import Http404

from cellclinic.accounts.access import require_permission, site_ids_with
from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.catalogue.loader import Catalogue
from cellclinic.catalogue.registry import get_catalogue
from cellclinic.catalogue.schema import Therapy, VersionKey, version_key
from cellclinic.core import plugs

VERSIONS_IN_USE = "therapy_versions_in_use"


def catalogue_get_for_user(user: User) -> Catalogue:
    """The catalogue, or 404 for users without the catalogue permission (portal users included)."""
    require_permission(user, Permission.CATALOGUE_VIEW)
    return get_catalogue()


def therapy_get_for_user(user: User, code: str, version: str | None = None) -> Therapy:
    """One therapy, current or at VERSION; an unknown one and a forbidden user get the same 404."""
    catalogue = catalogue_get_for_user(user)
    therapy = catalogue.therapies.get(code) if version is None else catalogue.therapy(code, version)
    if therapy is None:
        raise Http404("Not found")
    return therapy


def therapies_sorted(catalogue: Catalogue) -> list[Therapy]:
    """Therapies by name, for lists."""
    return sorted(catalogue.therapies.values(), key=lambda t: t.name.casefold())


@dataclass(frozen=True)
class VersionInUse:
    """One protocol version, and how many records of each counted kind were made on it.

    THERAPY is None for a version that records name but the catalogue no longer holds.
    """

    code: str
    version: str
    name: str
    therapy: Therapy | None
    current: bool
    file_name: str
    counts: list[int]


def _usage_key(code: str, version: str) -> tuple[str, VersionKey | str]:
    """Stored "1.0" and a file's "1.0.0" count as one version; a malformed one stays as written."""
    return code, version_key(version) or version


def therapy_versions_in_use(user: User, catalogue: Catalogue) -> tuple[list[str], list[VersionInUse]]:
    """The counted kinds (column labels) and every version of every therapy with its counts.

    Counts cover the sites where USER may see patients, one grouped query per registered counter;
    with no such site nothing is counted and there are no columns. Versions the catalogue holds come
    by therapy name, newest first; versions only records still name follow, by code and version.
    """
    sites = site_ids_with(user, Permission.PATIENT_VIEW)
    counters = plugs.counters_for(VERSIONS_IN_USE) if sites else []
    tallies: list[dict[tuple[str, VersionKey | str], int]] = []
    missing: dict[tuple[str, VersionKey | str], tuple[str, str]] = {}
    for counter in counters:
        tally: dict[tuple[str, VersionKey | str], int] = {}
        for (code, version), count in counter.count(sites).items():
            key = _usage_key(code, version)
            tally[key] = tally.get(key, 0) + count
            if catalogue.therapy(code, version) is None:
                missing.setdefault(key, (code, version))
        tallies.append(tally)

    def counts(key: tuple[str, VersionKey | str]) -> list[int]:
        return [tally.get(key, 0) for tally in tallies]

    rows = [
        VersionInUse(
            code=current.code,
            version=held.version,
            name=current.name,
            therapy=held,
            current=held is current,
            file_name=catalogue.file_of(held).name,
            counts=counts(_usage_key(held.code, held.version)),
        )
        for current in therapies_sorted(catalogue)
        for held in catalogue.versions(current.code)
    ]
    rows += [
        VersionInUse(
            code=code,
            version=version,
            name=catalogue.therapies[code].name if code in catalogue.therapies else code,
            therapy=None,
            current=False,
            file_name="",
            counts=counts(key),
        )
        for key, (code, version) in sorted(missing.items(), key=lambda item: item[1])
    ]
    return [counter.label for counter in counters], rows
