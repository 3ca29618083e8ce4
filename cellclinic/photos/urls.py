from django.urls import path

from cellclinic.photos import views

app_name = "photos"
urlpatterns = [
    path("photos/<uuid:photo_uid>/", views.photo_file, name="file"),
]
