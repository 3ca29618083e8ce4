"""Read and validate the catalogue files: plain functions, no Django imports.

Every problem in every file is collected before anything is returned, so one run names them all.
"""

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cellclinic.catalogue import plain_words
from cellclinic.catalogue.schema import (
    AftercareItem,
    Alternative,
    AlternativesFile,
    FieldPath,
    Harvest,
    Node,
    PatientLine,
    PatientTexts,
    Requirement,
    Restriction,
    Step,
    StepRisk,
    StepsFile,
    Study,
    Therapy,
    VersionKey,
    Visit,
    iter_citations,
    iter_nodes,
    iter_problems,
    version_key,
)

PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_THERAPY_DIR = PACKAGE_DIR / "therapies"
BUILTIN_ALTERNATIVES_FILE = PACKAGE_DIR / "alternatives.toml"
BUILTIN_STEPS_FILE = PACKAGE_DIR / "steps.toml"
# In an extra catalogue directory every *.toml file is a therapy, except this one.
ALTERNATIVES_FILE_NAME = "alternatives.toml"
# A therapy file is named <code>.toml, or <code>-<anything>.toml for another version (foo-2.toml).
# Codes never contain "-", so the code is the part of the name before the first one.
VERSION_SEPARATOR = "-"

N = TypeVar("N", bound=Node)


@dataclass(frozen=True)
class FileProblem:
    file: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"


class CatalogueError(Exception):
    """One or more catalogue files are unusable; each problem names its file and field."""

    def __init__(self, problems: list[FileProblem]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"Therapy catalogue: {count}:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class Catalogue:
    """Therapies and alternatives by code, with the file each therapy came from.

    `therapies` and `files` hold the current (highest) version of each therapy; `versions(code)` and
    `therapy(code, version)` reach every version held, for records made on an earlier one.
    """

    therapies: dict[str, Therapy] = field(default_factory=dict)
    alternatives: dict[str, Alternative] = field(default_factory=dict)
    alternative_sources: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    # Every version of each therapy, newest first, and the file of each (code, version).
    all_versions: dict[str, tuple[Therapy, ...]] = field(default_factory=dict)
    version_files: dict[tuple[str, VersionKey], Path] = field(default_factory=dict)
    # The steps of a procedure (harvest, bed preparation, injection, application) by code.
    steps: dict[str, Step] = field(default_factory=dict)
    step_sources: dict[str, str] = field(default_factory=dict)

    def versions(self, code: str) -> list[Therapy]:
        """Every version of the therapy CODE held, newest first; empty for an unknown code."""
        return list(self.all_versions.get(code, ()))

    def therapy(self, code: str, version: str) -> Therapy | None:
        """The therapy CODE at VERSION ("1.0" and "1.0.0" are the same); None when it is not held."""
        key = version_key(version)
        return next((t for t in self.all_versions.get(code, ()) if t.version_key == key), None)

    def file_of(self, therapy: Therapy) -> Path:
        """The file THERAPY (one version of it) was read from."""
        return self.version_files[(therapy.code, therapy.version_key)]

    def alternatives_for(self, indication_codes: Iterable[str]) -> list[Alternative]:
        """Alternatives serving any of these indications, in catalogue order."""
        wanted = set(indication_codes)
        return [a for a in self.alternatives.values() if wanted & {i.value for i in a.indications}]


def dotted(path: Iterable[str | int]) -> str:
    """("processing", "duration", "max") -> "processing.duration.max"."""
    return ".".join(str(part) for part in path)


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against the catalogue schema)"
    if kind in {"enum", "literal_error"}:
        return f"{error['input']!r} is not allowed; expected {error['ctx']['expected']}"
    message = error["msg"]
    value = error.get("input")
    if not isinstance(value, dict | list):
        message = f"{message}, got {value!r}"
    return message


def _read_toml(path: Path) -> tuple[dict | None, list[FileProblem]]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle), []
    except tomllib.TOMLDecodeError as exc:
        return None, [FileProblem(path, "", f"TOML syntax error: {exc}")]
    except UnicodeDecodeError as exc:
        return None, [FileProblem(path, "", f"not valid UTF-8 text: {exc.reason} at byte {exc.start}")]
    except OSError as exc:
        return None, [FileProblem(path, "", f"cannot read the file: {exc.strerror}")]


# The fields patients read, by the kind of node that holds them: plain words only (plain_words.py).
PATIENT_FIELDS: dict[type[Node], tuple[str, ...]] = {
    PatientTexts: ("name", "about"),
    PatientLine: ("text",),
    Restriction: ("patient",),
    Requirement: ("text",),
    Study: ("statement",),
    Step: ("name",),
    StepRisk: ("patient",),
    Alternative: ("patient_name", "patient_summary", "patient_better_when"),
    # The plan timeline in the patient's portal shows visits and aftercare as the file words them.
    Visit: ("label",),
    AftercareItem: ("text",),
    # ... and what is taken at harvest, and where from.
    Harvest: ("what", "where"),
}


def patient_texts(node: Node) -> Iterator[tuple[FieldPath, str]]:
    """(path, text) for every patient-facing text in NODE or below it."""
    for path, child in iter_nodes(node):
        for name in PATIENT_FIELDS.get(type(child), ()):
            value = getattr(child, name)
            if isinstance(value, str):
                yield (*path, name), value
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    yield (*path, name, index), item


def plain_words_problems(node: Node) -> Iterator[tuple[FieldPath, str]]:
    """Each internal marker or unexplained clinical word in a text patients read, with its path."""
    for path, text in patient_texts(node):
        for problem in plain_words.problems(text):
            yield path, f"patients read this text: {problem}"


def _validate(model: type[N], data: dict, path: Path) -> tuple[N | None, list[FileProblem]]:
    """Shape and types first; the rules across fields, and the patients' plain words, once it is right."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        return None, [FileProblem(path, dotted(e["loc"]), _message(e)) for e in exc.errors()]
    problems = [FileProblem(path, dotted(where), message) for where, message in iter_problems(parsed)]
    problems += [FileProblem(path, dotted(where), message) for where, message in plain_words_problems(parsed)]
    return (None, problems) if problems else (parsed, [])


def code_of_file(path: Path) -> str:
    """The therapy code a file name gives: foo.toml and foo-2.toml both hold therapy foo."""
    return path.stem.split(VERSION_SEPARATOR, 1)[0]


def load_therapy(path: Path) -> tuple[Therapy | None, list[FileProblem]]:
    """One therapy file; its code must be its file name (up to the first "-")."""
    data, problems = _read_toml(path)
    if data is None:
        return None, problems
    therapy, problems = _validate(Therapy, data, path)
    expected = code_of_file(path)
    if therapy is not None and therapy.code != expected:
        message = f"must match the file name {expected!r}, got {therapy.code!r}"
        return None, [FileProblem(path, "code", message)]
    return therapy, problems


def load_alternatives(path: Path) -> tuple[AlternativesFile | None, list[FileProblem]]:
    data, problems = _read_toml(path)
    if data is None:
        return None, problems
    return _validate(AlternativesFile, data, path)


def load_steps(path: Path) -> tuple[StepsFile | None, list[FileProblem]]:
    data, problems = _read_toml(path)
    if data is None:
        return None, problems
    return _validate(StepsFile, data, path)


def therapy_files(directory: Path) -> list[Path]:
    """The therapy files of a catalogue directory, in name order."""
    return sorted(p for p in directory.glob("*.toml") if p.name != ALTERNATIVES_FILE_NAME)


def catalogue_load(
    therapy_dirs: Iterable[Path] = (BUILTIN_THERAPY_DIR,),
    alternative_files: Iterable[Path] = (BUILTIN_ALTERNATIVES_FILE,),
    steps_file: Path = BUILTIN_STEPS_FILE,
) -> Catalogue:
    """Every therapy in THERAPY_DIRS and alternative in ALTERNATIVE_FILES, or CatalogueError."""
    problems: list[FileProblem] = []
    held: dict[tuple[str, VersionKey], Therapy] = {}
    version_files: dict[tuple[str, VersionKey], Path] = {}
    for directory in therapy_dirs:
        if not directory.is_dir():
            problems.append(FileProblem(directory, "", "catalogue directory does not exist"))
            continue
        for path in therapy_files(directory):
            therapy, found = load_therapy(path)
            problems.extend(found)
            if therapy is None:
                continue
            key = (therapy.code, therapy.version_key)
            if key not in held:
                held[key] = therapy
                version_files[key] = path
            elif held[key].model_dump() != therapy.model_dump():
                # The same protocol kept twice (say, a clinic's copy of a shipped version) is harmless.
                problems.append(
                    FileProblem(
                        path,
                        "version",
                        f"{therapy.code!r} version {therapy.version} is already defined with different "
                        f"content in {version_files[key]}; give this file a new version",
                    )
                )

    alternatives: dict[str, Alternative] = {}
    sources: dict[str, str] = {}
    where_defined: dict[str, Path] = {}
    for path in alternative_files:
        parsed, found = load_alternatives(path)
        problems.extend(found)
        if parsed is not None:
            problems.extend(_merge_alternatives(parsed, path, alternatives, sources, where_defined))

    steps, found = load_steps(steps_file)
    problems.extend(found)

    if problems:
        raise CatalogueError(problems)
    grouped: dict[str, list[Therapy]] = {}
    for therapy in held.values():
        grouped.setdefault(therapy.code, []).append(therapy)
    all_versions = {
        code: tuple(sorted(versions, key=lambda t: t.version_key, reverse=True))
        for code, versions in grouped.items()
    }
    return Catalogue(
        therapies={code: newest for code, (newest, *_) in all_versions.items()},
        alternatives=alternatives,
        alternative_sources=sources,
        files={code: version_files[code, newest.version_key] for code, (newest, *_) in all_versions.items()},
        all_versions=all_versions,
        version_files=version_files,
        steps={step.code.value: step for step in steps.steps} if steps else {},
        step_sources=dict(steps.sources) if steps else {},
    )


def _merge_alternatives(
    parsed: AlternativesFile,
    path: Path,
    alternatives: dict[str, Alternative],
    sources: dict[str, str],
    where_defined: dict[str, Path],
) -> list[FileProblem]:
    """Add one file's alternatives; codes stay unique and a source tag means one thing everywhere."""
    problems: list[FileProblem] = []
    for index, alternative in enumerate(parsed.alternatives):
        if alternative.code in alternatives:
            problems.append(
                FileProblem(
                    path,
                    f"alternatives.{index}.code",
                    f"{alternative.code!r} is already defined in {where_defined[alternative.code]}",
                )
            )
            continue
        alternatives[alternative.code] = alternative
        where_defined[alternative.code] = path
    for tag, text in parsed.sources.items():
        if tag in sources and sources[tag] != text:
            problems.append(
                FileProblem(
                    path, f"sources.{tag}", "already defined with different text in another alternatives file"
                )
            )
        sources.setdefault(tag, text)
    return problems


def cited_sources(node: BaseModel, sources: dict[str, str]) -> dict[str, str]:
    """The entries of SOURCES that NODE cites, in tag order (S2 before S10)."""
    tags = {tag for _, tag in iter_citations(node)} if isinstance(node, Node) else set()
    return {tag: sources[tag] for tag in sorted(tags, key=_tag_order) if tag in sources}


def _tag_order(tag: str) -> tuple[int, str]:
    digits = "".join(ch for ch in tag[1:] if ch.isdigit())
    return int(digits), tag
