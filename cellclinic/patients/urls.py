from django.urls import path

from cellclinic.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("portal/", views.portal, name="portal"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/section/<slug:name>/", views.patient_section, name="section"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/sign/", views.patient_sign, name="sign"),
    path("<int:pk>/portal-account/", views.patient_portal_account, name="portal_account"),
]
