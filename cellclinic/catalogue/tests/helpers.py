"""A minimal valid therapy file, for tests that break it one way at a time."""

from pathlib import Path

VALID_THERAPY = """\
code = "test_therapy"
name = "Test therapy"
version = "1"
summary = "A therapy used by the tests."
cell_source = "autologous"
cell_type = "Cultured fibroblasts"
steps = ["harvest", "injection"]

[[indications]]
code = "scar"
condition = "Depressed acne scars"
source = "S1"

[harvest]
what = "Punch biopsy"
where = "Behind the ear"

[processing]
kind = "culture"
description = "Grown in the lab"
duration = { min = 11, max = 22, unit = "weeks", source = "S1" }

[delivery]
methods = ["injection"]
description = "Intradermal injection"

[sessions]
count = { value = 3, source = "S1" }

[patient]
name = "Injections of your own lab-grown skin cells"
about = "Your own skin cells are grown in a laboratory and injected into your scars."

[[patient.how]]
text = "A small piece of skin is taken from behind your ear."

[[patient.recovery]]
text = "The treated area can be red for a few days."

[sources]
S1 = "A source for the tests"
"""


def write_therapy(directory: Path, text: str = VALID_THERAPY, name: str = "test_therapy") -> Path:
    """Write TEXT as DIRECTORY/NAME.toml and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str, text: str = VALID_THERAPY) -> str:
    """VALID_THERAPY with OLD replaced by NEW (which must be there, so a test cannot pass vacuously)."""
    assert old in text, old
    return text.replace(old, new, 1)


def versioned(version: str, text: str = VALID_THERAPY) -> str:
    """TEXT as the therapy file of VERSION."""
    return changed('version = "1"\n', f'version = "{version}"\n', text)


def write_two_versions(directory: Path) -> tuple[Path, Path]:
    """test_therapy 1.0.0 (3 sessions, harvest behind the ear) and 2.0.0 (5 sessions, from the arm)."""
    second = changed("count = { value = 3,", "count = { value = 5,", versioned("2.0.0"))
    second = changed('where = "Behind the ear"', 'where = "The inner upper arm"', second)
    return (
        write_therapy(directory, versioned("1.0.0")),
        write_therapy(directory, second, name="test_therapy-2"),
    )
