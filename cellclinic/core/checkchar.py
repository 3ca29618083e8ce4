"""ISO 7064 Mod 37-2 check characters, as ISBT 128 uses them (DOMAIN.md §6)."""

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def mod37_2(data: str) -> str:
    """Return the check character for DATA (digits and capital letters).

    Each character's value is weighted by 2**n, n counted from the right starting at 1;
    the check is (38 - sum mod 37) mod 37, mapped back to a character.
    """
    if not data:
        raise ValueError("cannot compute a check character over an empty string")
    total = 0
    for position, char in enumerate(reversed(data), start=1):
        value = ALPHABET.find(char)
        if value < 0 or char == "*":
            raise ValueError(f"character {char!r} is not allowed (only 0-9 and A-Z)")
        total += value * (2**position)
    return ALPHABET[(38 - total % 37) % 37]


def is_valid_mod37_2(data_with_check: str) -> bool:
    """True when the last character is the correct check character for the rest."""
    if len(data_with_check) < 2:
        return False
    try:
        return mod37_2(data_with_check[:-1]) == data_with_check[-1]
    except ValueError:
        return False
