from django.urls import path

from cellclinic.consents import views

app_name = "consents"
urlpatterns = [
    path("consultations/<int:consultation_id>/consent/new/", views.consent_new, name="new"),
    path("consents/<int:consent_id>/", views.consent_detail, name="detail"),
    path("consents/<int:consent_id>/sign/", views.consent_sign, name="sign"),
    path(
        "consents/<int:consent_id>/sign-in-clinic/", views.consent_sign_in_clinic_view, name="sign_in_clinic"
    ),
    path(
        "consents/<int:consent_id>/sign-with-guardian/",
        views.consent_sign_with_guardian_view,
        name="sign_with_guardian",
    ),
    path("consents/<int:consent_id>/countersign/", views.consent_countersign_view, name="countersign"),
    path("consents/<int:consent_id>/pdf/", views.consent_pdf_view, name="pdf"),
    path("consents/<int:consent_id>/withdraw/", views.consent_withdraw_view, name="withdraw"),
]
