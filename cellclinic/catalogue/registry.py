from dataclasses import dataclass, field


@dataclass
class Catalogue:
    therapies: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict)


def get_catalogue() -> Catalogue:
    return Catalogue()
