"""Limit/offset pagination of the JSON API's lists: bounds, the answer's shape, its document, its queries."""

import pytest
from pydantic import ValidationError

from cellclinic.accounts.models import Site
from cellclinic.core.api_pagination import MAX_OFFSET, LimitOffset, limit_offset_input

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
# Each paginated list, with someone allowed to read it.
LISTS = [
    ("/api/v1/accounts/staff", "admin_al"),
    ("/api/v1/accounts/tokens", "dr_ada"),
    ("/api/v1/audit/events", "admin_al"),
    ("/api/v1/enquiries", "dr_ada"),
    ("/api/v1/patients", "dr_ada"),
    ("/api/v1/plans", "dr_ada"),
    ("/api/v1/consultations", "dr_ada"),
]


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return [e["field"] for e in body["errors"]]


@pytest.fixture(params=LISTS, ids=[url for url, _ in LISTS])
def listed(request, api_as):
    url, user = request.param
    return url, api_as(request.getfixturevalue(user))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": HUGE}, "offset"),
        ({"offset": MAX_OFFSET + 1}, "offset"),
        ({"offset": -1}, "offset"),
        ({"offset": "first"}, "offset"),
        ({"limit": HUGE}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_a_page_out_of_range_answers_422_naming_the_parameter(listed, params, field):
    url, api = listed
    assert _fields(api.get(url, **params)) == [field]


def test_the_last_possible_offset_is_an_empty_page(listed):
    url, api = listed
    body = api.get(url, offset=MAX_OFFSET, limit=200).json()
    assert body["items"] == []
    assert list(body) == ["count", "items"]


def test_the_default_page_is_the_first_fifty(listed):
    url, api = listed
    assert api.get(url).json() == api.get(url, limit=50, offset=0).json()


def test_a_bad_filter_and_a_bad_page_are_named_together(api_as, admin_al):
    response = api_as(admin_al).get("/api/v1/accounts/staff", status="retired", offset=HUGE)
    assert sorted(_fields(response)) == ["offset", "status"]


def test_the_document_describes_each_lists_page(client):
    document = client.get("/api/v1/openapi.json").json()
    for url, _ in LISTS:
        operation = document["paths"][url]["get"]
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert parameters["limit"]["schema"] == {
            "default": 50,
            "description": "Page size, 1 to 200.",
            "maximum": 200,
            "minimum": 1,
            "title": "Limit",
            "type": "integer",
        }, url
        assert parameters["limit"]["required"] is False
        assert parameters["offset"]["schema"] == {
            "default": 0,
            "maximum": MAX_OFFSET,
            "minimum": 0,
            "title": "Offset",
            "type": "integer",
        }, url
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert list(page["properties"]) == ["count", "items"], url
        assert page["properties"]["count"]["type"] == "integer"
        assert page["properties"]["items"]["type"] == "array"
        assert set(page["required"]) == {"count", "items"}, url


def test_the_page_size_range_is_a_parameter():
    schema = LimitOffset(max_limit=20, default_limit=10).Input
    assert schema().limit == 10
    assert schema(limit=20).limit == 20
    with pytest.raises(ValidationError):
        schema(limit=21)
    assert schema.model_fields["limit"].description == "Page size, 1 to 20."
    assert limit_offset_input(10, 20) is schema  # one schema per range
    assert LimitOffset(max_limit=20).Input().limit == 20  # the default page is never above the maximum
    with pytest.raises(ValueError):
        LimitOffset(max_limit=20, default_limit=30)


def test_it_pages_a_plain_list_too():
    paginator = LimitOffset(max_limit=5)
    page = paginator.paginate_queryset(list(range(12)), paginator.Input(limit=5, offset=10), request=None)
    assert page == {"count": 12, "items": [10, 11]}


def test_to_items_sees_only_the_page():
    seen = []

    def to_items(rows):
        seen.append(list(rows))
        return [f"#{r}" for r in seen[-1]]

    paginator = LimitOffset(to_items=to_items)
    page = paginator.paginate_queryset(list(range(12)), paginator.Input(limit=3, offset=1), request=None)
    assert page == {"count": 12, "items": ["#1", "#2", "#3"]}
    assert seen == [[1, 2, 3]]


def test_a_queryset_costs_one_count_and_one_page_query(clinic_a, lab, django_assert_num_queries):
    paginator = LimitOffset()
    with django_assert_num_queries(2) as queries:
        page = paginator.paginate_queryset(
            Site.objects.order_by("code"), paginator.Input(limit=1, offset=1), request=None
        )
        items = list(page["items"])
    assert page["count"] == Site.objects.count()
    assert items == list(Site.objects.order_by("code")[1:2])
    assert sum("COUNT(" in q["sql"].upper() for q in queries.captured_queries) == 1
