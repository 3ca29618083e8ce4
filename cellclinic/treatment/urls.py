from django.urls import path

from cellclinic.treatment import views

app_name = "treatment"
urlpatterns = [
    path("new/<int:consultation_id>/", views.plan_new, name="new"),
    path("<int:plan_id>/", views.plan_detail, name="detail"),
]
