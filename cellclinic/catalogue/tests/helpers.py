"""A minimal valid therapy file, for tests that break it one way at a time."""

from pathlib import Path

VALID_THERAPY = """\
code = "test_therapy"
name = "Test therapy"
version = "1"
summary = "A therapy used by the tests."
cell_source = "autologous"
cell_type = "Cultured fibroblasts"

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
