from django.urls import path

from cellclinic.catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("", views.therapy_list, name="list"),
    path("<slug:code>/", views.therapy_detail, name="detail"),
    path("<slug:code>/version/<str:version>/", views.therapy_detail, name="version"),
]
