from django.http import HttpResponse
from django.urls import path

app_name = "patients"
urlpatterns = [path("", lambda r: HttpResponse("patients"), name="list")]
urlpatterns += [
    path("new/", lambda r: HttpResponse("x"), name="create"),
    path("<int:pk>/", lambda r, pk: HttpResponse("x"), name="detail"),
    path("portal/", lambda r: HttpResponse("x"), name="portal"),
]
