"""Therapy protocols and alternatives as JSON, for the same staff who may read the pages."""

from ninja import Router, Schema

from cellclinic.catalogue.loader import cited_sources
from cellclinic.catalogue.schema import (
    Alternative,
    CellSource,
    DeliveryMethod,
    Duration,
    IndicationCode,
    ProcessingKind,
    Therapy,
)
from cellclinic.catalogue.selectors import catalogue_get_for_user, therapies_sorted, therapy_get_for_user
from cellclinic.core.api_types import Code

router = Router(tags=["catalogue"])


class TherapySummaryOut(Schema):
    code: str
    name: str
    version: str
    investigational: bool
    cell_source: CellSource
    cell_type: str
    indications: list[IndicationCode]
    processing_kind: ProcessingKind
    processing_duration: Duration | None
    delivery_methods: list[DeliveryMethod]


class AlternativeOut(Alternative):
    sources: dict[str, str]


def _summary(therapy: Therapy) -> dict:
    return {
        "code": therapy.code,
        "name": therapy.name,
        "version": therapy.version,
        "investigational": therapy.investigational,
        "cell_source": therapy.cell_source,
        "cell_type": therapy.cell_type,
        "indications": therapy.indication_codes,
        "processing_kind": therapy.processing.kind,
        "processing_duration": therapy.processing.duration,
        "delivery_methods": therapy.delivery.methods,
    }


@router.get("/therapies", response=list[TherapySummaryOut], summary="Therapies in the catalogue, by name")
def therapy_list(request):
    return [_summary(t) for t in therapies_sorted(catalogue_get_for_user(request.auth))]


@router.get("/therapies/{code}", response=Therapy, summary="One therapy protocol in full")
def therapy_detail(request, code: Code):
    return therapy_get_for_user(request.auth, code)


@router.get("/alternatives", response=list[AlternativeOut], summary="Alternatives to cell therapy")
def alternative_list(request):
    catalogue = catalogue_get_for_user(request.auth)
    return [
        AlternativeOut.model_validate(
            {**dict(alternative), "sources": cited_sources(alternative, catalogue.alternative_sources)}
        )
        for alternative in catalogue.alternatives.values()
    ]
