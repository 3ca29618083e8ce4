from django.urls import path

from cellclinic.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.notification_mark_all_read, name="mark_all_read"),
    path("<int:notification_id>/", views.notification_open_view, name="open"),
    path("failed/", views.failed_email_list, name="failed"),
    path("failed/<int:notification_id>/send-again/", views.failed_email_resend, name="resend"),
]
