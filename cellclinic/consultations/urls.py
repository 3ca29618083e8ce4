from django.urls import path

from cellclinic.consultations import views

app_name = "consultations"
urlpatterns = [
    path("consultations/start/<int:pk>/", views.consultation_start_view, name="start"),
    path("consultations/<int:consultation_id>/", views.consultation_detail, name="detail"),
    path("consultations/<int:consultation_id>/goals/", views.consultation_goals, name="goals"),
    path("consultations/<int:consultation_id>/findings/", views.consultation_findings, name="findings"),
    path("consultations/<int:consultation_id>/candidacy/", views.consultation_candidacy, name="candidacy"),
    path(
        "consultations/<int:consultation_id>/expectations/",
        views.consultation_expectations,
        name="expectations",
    ),
    path(
        "consultations/<int:consultation_id>/alternatives/",
        views.consultation_alternatives,
        name="alternatives",
    ),
    path("consultations/<int:consultation_id>/decision/", views.consultation_decision, name="decision"),
    path("consultations/<int:consultation_id>/photos/", views.consultation_photos, name="photos"),
]
