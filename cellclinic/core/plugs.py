"""Where a stage plugs into the pages and the pathway of the apps below it.

A lower app never imports a higher one. Instead, each app registers from its `AppConfig.ready()`
what it adds to pages it does not own, and what it does when something happens on the pathway:

- **panels**: a template and a function that gives its context (or None to show nothing), placed
  in a named slot of a page and ordered there. Slots in use:

  | slot | page | object passed |
  | --- | --- | --- |
  | `chart` | a patient's chart (staff) | the patient |
  | `portal` | the patient's own record | the patient |
  | `portal_next` | "what happens next" on the portal: the first panel that answers is shown | the patient |
  | `consultation` | a consultation, below its decision | the consultation |
  | `consent` | a consent, what comes after it | the consent |
  | `enquiry_actions` | a consultation request's buttons | the enquiry |
  | `home`, `home_wide` | the start page after signing in: tiles, then wide panels | the signed-in user |
  | `sign_in` | the sign-in page | None |

- **navigation links**: a label, a URL name and who sees the link, in order; the first link a
  portal patient sees is where their start page sends them. A link may carry a count (what waits
  for this person there), shown beside its label when it is not zero.

- **hooks**: functions called by name inside the transaction of the service that fires them, so a
  later stage's reaction commits or rolls back with the change itself (for example, on
  `consent_withdrawn` every stage stops what was made under that consent).

- **counters**: functions that count, in one grouped query, what a higher app made on things a
  lower app owns, so the lower app's page can show the numbers without importing the higher app.
  Each answers a mapping {item: count} for the sites it is given. Names in use:

  | name | item |
  | --- | --- |
  | `therapy_versions_in_use` | `(therapy_code, therapy_version)` as stored on a later stage's records |

Registration is idempotent by key, so reloading an app config does not add a panel twice.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

ContextFunction = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    slot: str
    key: str
    template: str
    context: ContextFunction
    order: int


_PANELS: dict[str, dict[str, Panel]] = {}
_HOOKS: dict[str, dict[str, Callable[..., None]]] = {}


def register_panel(slot: str, key: str, *, template: str, context: ContextFunction, order: int = 100) -> None:
    """Show TEMPLATE in SLOT, with the context CONTEXT(request, obj) returns; None hides the panel."""
    _PANELS.setdefault(slot, {})[key] = Panel(slot, key, template, context, order)


def panels_in(slot: str) -> list[Panel]:
    """The panels registered in SLOT, in their order (then by key, so the order is stable)."""
    return sorted(_PANELS.get(slot, {}).values(), key=lambda panel: (panel.order, panel.key))


def render_panels(slot: str, request, obj, *, first_only: bool = False) -> list[SafeString]:
    """Each panel of SLOT that has something to show for OBJ, rendered with the request.

    With FIRST_ONLY, the first panel that answers is the only one rendered (and the only one whose
    queries run after it).
    """
    rendered = []
    for panel in panels_in(slot):
        context = panel.context(request, obj)
        if context is None:
            continue
        rendered.append(render_to_string(panel.template, context, request=request))
        if first_only:
            break
    return rendered


def render_panel(slot: str, key: str, request, obj) -> str:
    """The one panel KEY of SLOT for OBJ, rendered; empty when it has nothing to show."""
    panel = _PANELS[slot][key]
    context = panel.context(request, obj)
    return "" if context is None else render_to_string(panel.template, context, request=request)


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str
    url_name: str
    shown_to: Callable[[Any], bool]
    order: int
    count: Callable[[Any], int] | None = None


_NAV: dict[str, NavLink] = {}


def register_nav_link(
    key: str,
    label: str,
    url_name: str,
    *,
    shown_to: Callable[[Any], bool],
    order: int,
    count: Callable[[Any], int] | None = None,
) -> None:
    """A link in the main navigation to URL_NAME, for the signed-in users SHOWN_TO answers True for.

    COUNT(user), when given, answers how many things wait for the user behind the link.
    """
    _NAV[key] = NavLink(key, label, url_name, shown_to, order, count)


def nav_links_for(user) -> list[NavLink]:
    """The navigation links USER sees, in order."""
    return [
        link for link in sorted(_NAV.values(), key=lambda link: (link.order, link.key)) if link.shown_to(user)
    ]


def request_cached(request, key: str, compute: Callable[[], Any]) -> Any:
    """COMPUTE's answer, kept on REQUEST under KEY, so the panels of one page share one read."""
    cache = request.__dict__.setdefault("_cellclinic_plug_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def register_hook(event: str, key: str, function: Callable[..., None]) -> None:
    """Call FUNCTION(**details) whenever EVENT is fired, inside the firing service's transaction."""
    _HOOKS.setdefault(event, {})[key] = function


def hooks_for(event: str) -> list[str]:
    """The keys of the functions EVENT calls, in the order they run."""
    return sorted(_HOOKS.get(event, {}))


def fire(event: str, **details: Any) -> None:
    """Run every function registered for EVENT, in key order; an exception rolls the change back."""
    for key in hooks_for(event):
        _HOOKS[event][key](**details)


CountFunction = Callable[[Collection[int]], Mapping[Any, int]]


@dataclass(frozen=True)
class Counter:
    name: str
    key: str
    label: str
    count: CountFunction
    order: int


_COUNTERS: dict[str, dict[str, Counter]] = {}


def register_counter(name: str, key: str, *, label: str, count: CountFunction, order: int = 100) -> None:
    """Count for NAME: COUNT(site_ids) answers {item: count} over the records at those sites.

    LABEL names the column the counts are shown under (for example "Consents").
    """
    _COUNTERS.setdefault(name, {})[key] = Counter(name, key, label, count, order)


def counters_for(name: str) -> list[Counter]:
    """The counters registered for NAME, in their order (then by key)."""
    return sorted(_COUNTERS.get(name, {}).values(), key=lambda counter: (counter.order, counter.key))
