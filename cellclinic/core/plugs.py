"""Where a stage plugs into the pages and the pathway of the apps below it.

A lower app never imports a higher one. Instead, each app registers from its `AppConfig.ready()`
what it adds to pages it does not own, and what it does when something happens on the pathway:

- **panels**: a template and a function that gives its context (or None to show nothing), placed
  in a named slot of a page and ordered there. Slots in use:

  | slot | page | object passed |
  | --- | --- | --- |
  | `chart` | a patient's chart (staff), in the tab its `section` names | the patient |
  | `portal` | the patient's own record | the patient |
  | `portal_next` | "what happens next" on the portal: the first panel that answers is shown | the patient |
  | `consultation` | a consultation, below its decision | the consultation |
  | `consent` | a consent, what comes after it | the consent |
  | `enquiry_actions` | a consultation request's buttons | the enquiry |
  | `home`, `home_wide` | the start page after signing in: tiles, then wide panels | the signed-in user |
  | `sign_in` | the sign-in page | None |

  A panel may name the `section` of its page it belongs to (default `overview`). The chart shows one
  section at a time, as tabs loaded on demand: `overview`, `consultations`, `consents`, `plan`,
  `photos`, `record`, `history`; a tab is shown when the chart has something of its own there or a
  panel is registered in it, and only the panels of the section being shown compute their context.

- **stage reporters**: functions that say how far a patient has come on the pathway in one app
  (consultation, consent, plan, ...) and what the next step is, with its date. The chart's header
  shows the furthest stage reported, so the patients app learns where a patient stands without
  importing the apps above it.

- **navigation links**: a label, a URL name and who sees the link, in order; the first link a
  portal patient sees is where their start page sends them. A link may carry a count (what waits
  for this person there), shown beside its label when it is not zero and read once per request.

- **hooks**: functions called by name inside the transaction of the service that fires them, so a
  later stage's reaction commits or rolls back with the change itself (for example, on
  `consent_withdrawn` every stage stops what was made under that consent).

- **counters**: functions that count, in one grouped query, what a higher app made on things a
  lower app owns, so the lower app's page can show the numbers without importing the higher app.
  Each answers a mapping {item: count} for the sites it is given. Names in use:

  | name | item |
  | --- | --- |
  | `therapy_versions_in_use` | `(therapy_code, therapy_version)` as stored on a later stage's records |

- **schedulers**: functions a lower app asks for a date that only a higher app knows, one function per
  name. Each is called with a site, a catalogue therapy and the day wanted, and answers a tuple of
  dates, or None when it cannot say (then the lower app plans as if nobody had answered). Names in use:

  | name | app | answers |
  | --- | --- | --- |
  | `processing` | lab | `(slot_start, ready_from, ready_to)` for a harvest on the day wanted |

  `slot_start` is the first day on or after the harvest that the clinic's lab has a processing slot
  free for the therapy; `ready_from` and `ready_to` bound the days its product is expected.

- **worklist**: what waits for a staff member at their sites, shown as the start page after signing
  in. Each item has a label, who it is shown to, a function answering its first rows and their total
  (one query), a function answering only the total (one aggregate query, for a navigation link's
  count), the list page where all of them are (optional), its order and what it says when nothing
  waits (or nothing, to hide the item then). Each row is a link to where the work is done, the
  person it concerns, what waits and when. Items in use:

  | key | app | what waits |
  | --- | --- | --- |
  | `candidacy.new_requests` | candidacy | consultation requests nobody has handled yet |
  | `consultations.in_progress` | consultations | consultations started and not yet decided |
  | `consents.awaiting_patient` | consents | consents waiting for the patient's signature |
  | `consents.awaiting_countersign` | consents | consents waiting for the practitioner's signature |
  | `consents.withdrawn_recently` | consents | consents withdrawn in the last 14 days |
  | `treatment.overdue` | treatment | plan steps past their date whose window is still open |
  | `treatment.due_soon` | treatment | plan steps due in the next 7 days |

  A count, once read in a request, is kept on the signed-in user for the rest of it, so the start
  page and the navigation link beside it read it once.

Registration is idempotent by key, so reloading an app config does not add a panel twice.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

ContextFunction = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    slot: str
    key: str
    template: str
    context: ContextFunction
    order: int
    section: str = "overview"


_PANELS: dict[str, dict[str, Panel]] = {}
_HOOKS: dict[str, dict[str, Callable[..., None]]] = {}


def register_panel(
    slot: str,
    key: str,
    *,
    template: str,
    context: ContextFunction,
    order: int = 100,
    section: str = "overview",
) -> None:
    """Show TEMPLATE in SLOT, with the context CONTEXT(request, obj) returns; None hides the panel.

    SECTION names the part of a page with several sections (the chart's tabs) the panel is shown in.
    """
    _PANELS.setdefault(slot, {})[key] = Panel(slot, key, template, context, order, section)


def panels_in(slot: str, section: str | None = None) -> list[Panel]:
    """The panels registered in SLOT (only those of SECTION when given), in their order, then by key."""
    panels = _PANELS.get(slot, {}).values()
    if section is not None:
        panels = [panel for panel in panels if panel.section == section]
    return sorted(panels, key=lambda panel: (panel.order, panel.key))


def sections_in(slot: str) -> set[str]:
    """The sections the panels of SLOT are registered in."""
    return {panel.section for panel in _PANELS.get(slot, {}).values()}


def panel_contexts(
    slot: str, request, obj, *, section: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(template, context) of each panel of SLOT (of SECTION when given) that has something to show.

    For a page that renders the panels inside its own template context, so the context processors
    run once for the page rather than once for every panel.
    """
    shown = []
    for panel in panels_in(slot, section):
        context = panel.context(request, obj)
        if context is not None:
            shown.append((panel.template, context))
    return shown


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
class Stage:
    """How far a patient has come in one app, and what comes next there.

    RANK orders the stages of the whole pathway (higher is further on); LABEL says where the patient
    stands, NEXT_STEP and NEXT_DATE what is due and when (either may be empty), URL where to see it.
    """

    rank: int
    label: str
    next_step: str = ""
    next_date: date | None = None
    url: str = ""


StageFunction = Callable[[Any, Any], Stage | None]

_STAGE_REPORTERS: dict[str, StageFunction] = {}


def register_stage_reporter(key: str, report: StageFunction) -> None:
    """REPORT(request, patient) answers the patient's Stage in one app, or None when it has none."""
    _STAGE_REPORTERS[key] = report


def furthest_stage(request, patient) -> Stage | None:
    """The furthest stage any app reports for PATIENT (on a tie, the first reporter by key)."""
    furthest = None
    for key in sorted(_STAGE_REPORTERS):
        stage = _STAGE_REPORTERS[key](request, patient)
        if stage is not None and (furthest is None or stage.rank > furthest.rank):
            furthest = stage
    return furthest


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

    COUNT(user), when given, answers how many things wait for the user behind the link. It is asked
    once per request: the answer is kept on the user, however many templates show the navigation.
    """
    _NAV[key] = NavLink(key, label, url_name, shown_to, order, None if count is None else _kept(key, count))


def _kept(key: str, count: Callable[[Any], int]) -> Callable[[Any], int]:
    """COUNT, asked once per user object (that is, per request) for the link KEY."""

    def kept(user) -> int:
        counts = _counts(user)
        name = f"nav:{key}"
        if name not in counts:
            counts[name] = count(user)
        return counts[name]

    return kept


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


SchedulerFunction = Callable[[Any, Any, date], tuple[date, ...] | None]

_SCHEDULERS: dict[str, SchedulerFunction] = {}


def register_scheduler(name: str, function: SchedulerFunction) -> None:
    """FUNCTION(site, therapy, wanted) answers the dates NAME stands for, or None when it cannot say."""
    _SCHEDULERS[name] = function


def scheduled(name: str, site, therapy, wanted: date) -> tuple[date, ...] | None:
    """The dates the function registered for NAME answers for SITE, THERAPY and WANTED; None when no
    app registered one, or when it cannot say."""
    function = _SCHEDULERS.get(name)
    return None if function is None else function(site, therapy, wanted)


# The worklist --------------------------------------------------------------------------------------------

WORKLIST_ROWS = 5  # rows each item lists on the start page; its count and list page tell the rest
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class WorkRow:
    """One thing that waits: where it is done (HREF), whom it concerns, what waits and when."""

    href: str
    who: str
    what: str
    when: str


@dataclass(frozen=True, slots=True)
class WorkFound:
    """The first rows of a worklist item and how many there are in all."""

    count: int
    rows: Sequence[WorkRow]


@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    shown_to: Callable[[Any], bool]
    count: Callable[[Any], int]
    items: Callable[[Any, int], WorkFound]
    href: str
    order: int
    empty_text: str

    @property
    def anchor(self) -> str:
        """The item's key as an HTML id."""
        return "worklist-" + self.key.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class WorkEntry:
    """A worklist item as one user sees it: its count, first rows and the page listing all of them."""

    item: WorkItem
    count: int
    rows: Sequence[WorkRow]
    see_all: str

    @property
    def more(self) -> int:
        """How many are not among the rows shown."""
        return self.count - len(self.rows)


_WORKLIST: dict[str, WorkItem] = {}
_USER_CACHE_ATTRIBUTE = "_cellclinic_user_cache"


def register_worklist(
    key: str,
    *,
    label: str,
    shown_to: Callable[[Any], bool],
    count: Callable[[Any], int],
    items: Callable[[Any, int], WorkFound],
    href: str = "",
    order: int = 100,
    empty_text: str = "",
) -> None:
    """An item of the staff worklist, for the users SHOWN_TO answers True for.

    ITEMS(user, limit) answers the first LIMIT rows and the total; COUNT(user) the total alone. HREF,
    a path or a URL name (which a query string may follow), is the page listing all of them.
    EMPTY_TEXT is shown when nothing waits; without it the item is left out then.
    """
    _WORKLIST[key] = WorkItem(key, label, shown_to, count, items, href, order, empty_text)


def worklist_items_for(user) -> list[WorkItem]:
    """The worklist items USER is shown, in order (then by key)."""
    items = sorted(_WORKLIST.values(), key=lambda item: (item.order, item.key))
    return [item for item in items if item.shown_to(user)]


def user_cached(user, key: str, compute: Callable[[], Any]) -> Any:
    """COMPUTE's answer, kept on the signed-in USER (a new object each request) under KEY."""
    cache = getattr(user, _USER_CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        setattr(user, _USER_CACHE_ATTRIBUTE, cache)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _counts(user) -> dict[str, int]:
    return user_cached(user, "worklist_counts", dict)


def worklist_count(user, key: str) -> int:
    """How many things of item KEY wait for USER: read once, then kept on the user for the request."""
    counts = _counts(user)
    if key not in counts:
        item = _WORKLIST[key]
        counts[key] = item.count(user) if item.shown_to(user) else 0
    return counts[key]


def _href(target: str) -> str:
    """A path as it is; a URL name, with the query string that may follow it, as its path."""
    if not target or target.startswith("/"):
        return target
    name, mark, query = target.partition("?")
    return f"{reverse(name)}{mark}{query}"


def worklist_for(user, *, limit: int = WORKLIST_ROWS) -> list[WorkEntry]:
    """What waits for USER, item by item: one query per item shown, however much waits."""
    counts = _counts(user)
    entries = []
    for item in worklist_items_for(user):
        found = item.items(user, limit)
        counts[item.key] = found.count
        if found.count or item.empty_text:
            entries.append(WorkEntry(item, found.count, found.rows, _href(item.href) if found.count else ""))
    return entries


def worklist_day(day: date, today: date) -> str:
    """DAY in a few words as seen from TODAY: "today", "tomorrow", "yesterday", "Thu 3 Dec" within a
    week either side, "3 Dec" in the same year, "3 Dec 2025" otherwise."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    short = f"{day.day} {_MONTHS[day.month - 1]}"
    if -7 < delta < 7:
        return f"{_WEEKDAYS[day.weekday()]} {short}"
    return short if day.year == today.year else f"{short} {day.year}"


def worklist_links(url_name: str) -> Callable[[int], str]:
    """A function giving the path of URL_NAME for one object id, reversing the name only once."""
    marker = 2_147_483_647
    path = reverse(url_name, args=[marker])
    head, _, tail = path.rpartition(str(marker))
    return lambda object_id: f"{head}{object_id}{tail}"
