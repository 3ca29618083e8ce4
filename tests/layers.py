"""The layer table of the apps under cellclinic/, and checks that every app imports only downwards.

Each check is a pure function of a source tree: `root` is the folder that holds the `cellclinic/`
package, and every violation is a message `path:line what: why`, with paths relative to `root`.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

LAYERS: dict[int, tuple[str, ...]] = {
    0: ("core",),  # plumbing: helpers, middleware, errors; imports no domain app
    # foundation: users and sites, the audit trail, notifications, the therapies, answers kept for
    # idempotent retries
    1: ("accounts", "audit", "notifications", "catalogue", "idempotency"),
    2: ("patients",),  # the patient record
    3: ("candidacy",),  # self-assessment and enquiries, before a patient is seen
    4: ("photos", "consultations"),  # the clinical consultation and its photos
    5: ("consents",),  # consent signed after a consultation, before treatment
    6: ("treatment", "lab", "aftercare", "outcomes", "interop"),  # treatment and the stages after it
    9: ("demo",),  # demo data loaded through every app's services
}
FLOOR: dict[str, int] = {app: floor for floor, apps in LAYERS.items() for app in apps}

PROJECT_MODULES = frozenset({"__init__", "api", "cli", "settings", "urls", "wsgi"})
PROJECT_FLOOR = 10  # the project modules compose the apps: above every floor
SHARED_TEMPLATES_FLOOR = 1  # cellclinic/templates/ frames every page: sign-in, home and sign-out links

PURE_MODULES = (
    "cellclinic/accounts/roles.py",
    "cellclinic/audit/chain.py",
    "cellclinic/audit/changes.py",
    "cellclinic/candidacy/answers.py",
    "cellclinic/candidacy/engine.py",
    "cellclinic/catalogue/plain_words.py",
    "cellclinic/catalogue/vocabulary.py",
    "cellclinic/consents/document.py",
    "cellclinic/consents/pdf.py",
    "cellclinic/consultations/severity.py",
    "cellclinic/core/checkchar.py",
    "cellclinic/core/pdf_fonts.py",
    "cellclinic/core/states.py",
    "cellclinic/core/text.py",
    "cellclinic/lab/bedside.py",
    "cellclinic/lab/capacity.py",
    "cellclinic/lab/donor.py",
    "cellclinic/lab/identity.py",
    "cellclinic/lab/isbt.py",
    "cellclinic/lab/labels.py",
    "cellclinic/lab/release.py",
    "cellclinic/patients/identifiers.py",
    "cellclinic/treatment/schedule.py",
    "cellclinic/treatment/timeline.py",
)
PLAIN_DATA_MODULES = (
    "cellclinic/catalogue/loader.py",
    "cellclinic/catalogue/schema.py",
    "cellclinic/core/errors.py",
)
DJANGO_PACKAGES = ("django", "ninja")

UNCHECKED_FOLDERS = frozenset({"tests", "migrations"})
NOT_APPS = frozenset({"__pycache__", "static", "templates"})

LOAD = re.compile(r"\{%\s*load\s+(.+?)\s*%\}")
TEMPLATE_REF = re.compile(r"\{%\s*(include|extends)\s+(['\"])([^'\"]+)\2")
URL = re.compile(r"\{%\s*url\s+(['\"])([^'\"]+)\1")


def check_tree(root: Path) -> list[str]:
    """Every violation of the layer rules in the tree under `root`."""
    return [
        *check_apps_declared(root),
        *check_imports(root),
        *check_url_names(root),
        *check_templates(root),
        *check_pure(root),
    ]


def check_apps_declared(root: Path) -> list[str]:
    """Every app folder and top-level module of cellclinic/ that the layer table does not name."""
    violations: list[str] = []
    for path in sorted((root / "cellclinic").iterdir()):
        if path.is_dir() and path.name not in NOT_APPS and path.name not in FLOOR and any(path.rglob("*.py")):
            violations.append(f"cellclinic/{path.name}: app {path.name} is not in the layer table")
        elif path.suffix == ".py" and path.stem not in PROJECT_MODULES:
            violations.append(f"cellclinic/{path.name}: module {path.stem} is not in the layer table")
    return violations


def check_imports(root: Path) -> list[str]:
    """Every import of a higher app or an undeclared app, outside tests/ and migrations/ folders."""
    violations: list[str] = []
    for path in sorted((root / "cellclinic").rglob("*.py")):
        rel = path.relative_to(root)
        source = rel.parts[1] if len(rel.parts) > 2 else rel.stem
        source_floor = _floor(source)
        tree = _parse(path, rel, violations)
        if tree is None or source_floor is None or UNCHECKED_FOLDERS & set(rel.parts[:-1]):
            continue
        for line, target in _imports(tree, rel, root):
            parts = target.split(".")
            if parts[0] != "cellclinic" or len(parts) < 2 or parts[1] == source:
                continue
            target_floor = _floor(parts[1])
            if target_floor is None:
                violations.append(f"{rel}:{line} imports {target}: app {parts[1]} is not in the layer table")
            elif target_floor > source_floor:
                violations.append(
                    f"{rel}:{line} imports {target}: {_label(source)} may not import {_label(parts[1])}"
                )
    return violations


URL_FUNCTIONS = frozenset({"reverse", "reverse_lazy", "redirect", "resolve_url"})


def check_url_names(root: Path) -> list[str]:
    """Every reverse()/redirect() in Python, outside tests/ and migrations/, of a higher app's URL name."""
    violations: list[str] = []
    for path in sorted((root / "cellclinic").rglob("*.py")):
        rel = path.relative_to(root)
        source = rel.parts[1] if len(rel.parts) > 2 else rel.stem
        source_floor = _floor(source)
        if source_floor is None or UNCHECKED_FOLDERS & set(rel.parts[:-1]):
            continue
        tree = _parse(path, rel, [])
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            if (
                name not in URL_FUNCTIONS
                or not isinstance(first, ast.Constant)
                or not isinstance(first.value, str)
            ):
                continue
            owner = first.value.split(":")[0] if ":" in first.value else ""
            if FLOOR.get(owner, -1) > source_floor:
                what = f"{rel}:{node.lineno} names the URL '{first.value}'"
                violations.append(f"{what}: {_label(source)} may not use {_label(owner)}")
    return violations


def check_templates(root: Path) -> list[str]:
    """Every template that loads a tag library, uses a template or links to a URL of a higher app."""
    package = root / "cellclinic"
    library_owner = {p.stem: p.parent.parent.name for p in package.glob("*/templatetags/*.py")}
    folder_owner = {p.name: p.parent.parent.name for p in package.glob("*/templates/*") if p.is_dir()}
    shared = f"the shared templates (floor {SHARED_TEMPLATES_FLOOR})"
    folders = [(package / "templates", shared, SHARED_TEMPLATES_FLOOR)]
    folders += [(package / app / "templates", _label(app), floor) for app, floor in sorted(FLOOR.items())]
    violations: list[str] = []
    for folder, source, source_floor in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(root)
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                for what, owner in _template_references(line, library_owner, folder_owner):
                    if FLOOR.get(owner, -1) > source_floor:
                        violations.append(f"{rel}:{number} {what}: {source} may not use {_label(owner)}")
    return violations


def check_pure(root: Path) -> list[str]:
    """Every import by a pure module of Django, or of a cellclinic module neither pure nor plain data."""
    states = [str(p.relative_to(root)) for p in (root / "cellclinic").rglob("states.py")]
    pure = sorted({*PURE_MODULES, *states, *PLAIN_DATA_MODULES})
    allowed = {_dotted(Path(name)) for name in pure}
    violations: list[str] = []
    for name in pure:
        rel = Path(name)
        if not (root / rel).is_file() or (tree := _parse(root / rel, rel, [])) is None:
            continue
        for line, target in _imports(tree, rel, root):
            top = target.split(".")[0]
            if top in DJANGO_PACKAGES or top.startswith(tuple(f"{p}_" for p in DJANGO_PACKAGES)):
                violations.append(f"{rel}:{line} imports {target}: a pure module may not import Django")
            elif top == "cellclinic" and target not in allowed:
                violations.append(
                    f"{rel}:{line} imports {target}: a pure module may import only pure or plain-data modules"
                )
    return violations


def _floor(name: str) -> int | None:
    """The floor of an app or project module named by its folder or file name; None if undeclared."""
    return PROJECT_FLOOR if name in PROJECT_MODULES else FLOOR.get(name)


def _label(name: str) -> str:
    """An app or project module with its floor, as violation messages show it."""
    if name in PROJECT_MODULES:
        return f"the project module cellclinic.{name} (above every app)"
    return f"{name} (floor {FLOOR[name]})"


def _parse(path: Path, rel: Path, violations: list[str]) -> ast.Module | None:
    """The syntax tree of a Python file, or None after recording that it does not parse."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(rel))
    except SyntaxError as error:
        violations.append(f"{rel}:{error.lineno} does not parse: {error.msg}")
        return None


def _dotted(rel: Path) -> str:
    """The dotted module name of a file path relative to the root, packages named without __init__."""
    parts = rel.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, rel: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import anywhere in the tree, relative ones resolved.

    `from package import name` names the submodule `package.name` when that exists in the tree,
    and `package` otherwise.
    """
    package = _dotted(rel).split(".")
    if rel.stem != "__init__":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                path = root.joinpath(*submodule.split("."))
                targets.append(submodule if path.is_dir() or path.with_suffix(".py").is_file() else base)
            for target in dict.fromkeys(targets):
                yield node.lineno, target


def _template_references(
    line: str, library_owner: dict[str, str], folder_owner: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """(what the line does, owning app) for each tag library, template and URL one template line uses."""
    for match in LOAD.finditer(line):
        words = match.group(1).split()
        for library in words[words.index("from") + 1 :] if "from" in words else words:
            if library in library_owner:
                yield f"loads {library}", library_owner[library]
    for match in TEMPLATE_REF.finditer(line):
        verb, name = match.group(1), match.group(3)
        folder = name.split("/")[0]
        if "/" in name and folder in folder_owner:
            yield f'{verb}s "{name}"', folder_owner[folder]
    for match in URL.finditer(line):
        name = match.group(2)
        if ":" in name:
            yield f"links to '{name}'", name.split(":")[0]
