"""Medical record numbers: the site code, a sequence and an ISO 7064 Mod 37-2 check character."""

import re

from cellclinic.core.checkchar import is_valid_mod37_2, mod37_2

MRN_PATTERN = re.compile(r"^(?P<site>[A-Z][A-Z0-9]{1,7})-(?P<seq>\d{6,})-(?P<check>[0-9A-Z*])$")


def mrn_format(site_code: str, sequence: int) -> str:
    """e.g. NCL-000042-X; the check character catches a mistyped digit."""
    if sequence < 1:
        raise ValueError("the sequence starts at 1")
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,7}", site_code):
        raise ValueError(f"site code {site_code!r} is not 2-8 upper-case letters or digits")
    body = f"{site_code}{sequence:06d}"
    return f"{site_code}-{sequence:06d}-{mod37_2(body)}"


def mrn_is_valid(mrn: str) -> bool:
    match = MRN_PATTERN.match(mrn)
    if not match:
        return False
    return is_valid_mod37_2(match["site"] + match["seq"] + match["check"])
