from django.urls import path

from cellclinic.candidacy import views

app_name = "candidacy"
urlpatterns = [
    path("assess/", views.assess, name="assess"),
    path("assess/questions/", views.assess_questions, name="assess_questions"),
    path("assess/result/<uuid:public_id>/", views.assess_result, name="result"),
    path("assess/result/<uuid:public_id>/request/", views.assess_request, name="request"),
    path("assess/result/<uuid:public_id>/request/sent/", views.assess_request_sent, name="request_sent"),
    path("enquiries/", views.enquiry_list_view, name="enquiry_list"),
    path("enquiries/<int:enquiry_id>/", views.enquiry_detail, name="enquiry_detail"),
    path("enquiries/<int:enquiry_id>/status/", views.enquiry_status, name="enquiry_status"),
    path("enquiries/<int:enquiry_id>/register/", views.enquiry_register, name="enquiry_register"),
]
