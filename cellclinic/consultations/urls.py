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
    path("consultations/<int:consultation_id>/consent/new/", views.consent_new, name="consent_new"),
    path("photos/<uuid:photo_uid>/", views.photo_file, name="photo"),
    path("consents/<int:consent_id>/", views.consent_detail, name="consent_detail"),
    path("consents/<int:consent_id>/sign/", views.consent_sign, name="consent_sign"),
    path(
        "consents/<int:consent_id>/sign-in-clinic/",
        views.consent_sign_in_clinic_view,
        name="consent_sign_in_clinic",
    ),
    path(
        "consents/<int:consent_id>/countersign/", views.consent_countersign_view, name="consent_countersign"
    ),
    path("consents/<int:consent_id>/pdf/", views.consent_pdf_view, name="consent_pdf"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
]
