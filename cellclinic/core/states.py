"""Transition tables: which status a record may move to from which, told in words a person reads.

Pure: no Django. Each app's own `states.py` declares one table per state machine with the string
values of its model's status choices; services check every move against it before changing a row.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType


class TransitionRefused(ValueError):
    """A move the table does not allow; the message says why, for a person to read."""


def _either(words: Iterable[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


@dataclass(frozen=True)
class TransitionTable:
    """The allowed moves of one kind of record (NAME, such as "consent").

    MOVES maps each state to the states it may move to next (a state with none is final), the first
    being where a new record starts; LABELS gives each state as it reads after "that is", such as
    "waiting for the patient's signature". Staying in the same state is not a move.
    """

    name: str
    moves: Mapping[str, frozenset[str]]
    labels: Mapping[str, str]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a transition table needs the name of the thing it governs")
        moves = {state: frozenset(targets) for state, targets in self.moves.items()}
        unknown = sorted({target for targets in moves.values() for target in targets} - set(moves))
        if unknown:
            raise ValueError(f"{self.name}: moves lead to undeclared states: {', '.join(unknown)}")
        looping = sorted(state for state, targets in moves.items() if state in targets)
        if looping:
            raise ValueError(f"{self.name}: staying in a state is not a move: {', '.join(looping)}")
        if set(self.labels) != set(moves):
            raise ValueError(f"{self.name}: every state needs exactly one label")
        object.__setattr__(self, "moves", MappingProxyType(moves))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    @property
    def states(self) -> tuple[str, ...]:
        """Every state, in the order the table declares them."""
        return tuple(self.moves)

    def label(self, state: str) -> str:
        """The state as a person reads it; an unknown state as given, quoted."""
        return self.labels.get(state, f"'{state}'")

    def is_final(self, state: str) -> bool:
        """True for a declared state with no move out of it."""
        return state in self.moves and not self.moves[state]

    def allows(self, current: str, target: str) -> bool:
        """True when a record in CURRENT may move to TARGET."""
        return target in self.moves.get(current, ())

    def next_states(self, current: str) -> tuple[str, ...]:
        """The states CURRENT may move to, in the table's order (none for a final or unknown state)."""
        targets = self.moves.get(current, frozenset())
        return tuple(state for state in self.moves if state in targets)

    def check(self, current: str, target: str) -> None:
        """Raise TransitionRefused, in words that name both states, unless CURRENT may move to TARGET."""
        if self.allows(current, target):
            return
        thing = f"{'An' if self.name[0].lower() in 'aeiou' else 'A'} {self.name}"
        for state in (current, target):
            if state not in self.moves:
                states = _either(self.label(s) for s in self.moves)
                raise TransitionRefused(f"{thing} is never {self.label(state)}; it can be {states}.")
        if current == target:
            refused = f"{thing} that is {self.label(current)} is already {self.label(target)}"
        else:
            refused = f"{thing} that is {self.label(current)} cannot become {self.label(target)}"
        if self.is_final(current):
            raise TransitionRefused(f"{refused}: it cannot change any more.")
        choices = _either(self.label(state) for state in self.next_states(current))
        raise TransitionRefused(f"{refused}; it can become: {choices}.")
