from django.urls import include, path, re_path

from cellclinic.api import api, api_not_found

urlpatterns = [
    path("", include("cellclinic.accounts.urls")),
    path("patients/", include("cellclinic.patients.urls")),
    path("catalogue/", include("cellclinic.catalogue.urls")),
    path("audit/", include("cellclinic.audit.urls")),
    path("notifications/", include("cellclinic.notifications.urls")),
    path("", include("cellclinic.photos.urls")),
    path("", include("cellclinic.consultations.urls")),
    path("", include("cellclinic.consents.urls")),
    path("plans/", include("cellclinic.treatment.urls")),
    path("lab/", include("cellclinic.lab.urls")),
    path("", include("cellclinic.candidacy.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
]

handler404 = "cellclinic.core.views.not_found"
handler403 = "cellclinic.core.views.forbidden"
handler500 = "cellclinic.core.views.server_error"
