"""The patient's portal, for a plan of every shipped therapy and indication: plain words only.

The portal shows the plan's timeline, the next step with what to expect, the consent and the
self-assessment; each is checked with the rule the catalogue loader applies to patient texts.
"""

import re
from html import unescape

import pytest

from cellclinic.catalogue.loader import catalogue_load
from cellclinic.catalogue.plain_words import problems
from cellclinic.demo.builder import at_stage

pytestmark = pytest.mark.django_db

PORTAL = "/patients/portal/"
AREAS = {"wound": "legs", "burn": "arms", "vitiligo": "face", "hypopigmentation": "arms"}
CASES = sorted(
    {
        (code, indication.code.value)
        for code, therapy in catalogue_load().therapies.items()
        for indication in therapy.indications
    }
)


def visible_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return unescape(re.sub(r"<[^>]+>", "\n", main))


@pytest.mark.parametrize(("therapy", "indication"), CASES)
def test_the_portal_speaks_plainly_for_every_plan(client, therapy, indication):
    pathway = at_stage(
        "planned",
        therapy=therapy,
        indication=indication,
        concerns=[indication],
        area=AREAS.get(indication, "face"),
        in_days=1,
    )
    client.force_login(pathway.portal_user)

    text = visible_text(client.get(PORTAL).content.decode())

    lines = [line.strip() for line in text.split("\n") if line.strip()]
    found = [f"{line!r}: {problem}" for line in lines for problem in problems(line)]
    assert not found, found
