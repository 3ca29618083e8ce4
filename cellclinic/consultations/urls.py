from django.urls import path

from cellclinic.consultations import views

app_name = "consultations"
urlpatterns = [
    path("consultations/start/<int:pk>/", views.consultation_start_view, name="start"),
    path("consultations/<int:consultation_id>/", views.consultation_detail, name="detail"),
    path("consultations/<int:consultation_id>/step/<slug:name>/", views.consultation_step, name="step"),
    path("consultations/<int:consultation_id>/photos/", views.consultation_photos, name="photos"),
]
