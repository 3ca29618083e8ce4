from django.urls import path

from cellclinic.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("sign-in/two-factor/", views.two_factor, name="two_factor"),
    path("sign-in/two-factor/set-up/", views.two_factor_enrol, name="two_factor_enrol"),
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/tokens/", views.token_create, name="token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/roles/", views.staff_grant, name="staff_grant"),
    path("staff/<int:pk>/roles/<int:membership_pk>/revoke/", views.staff_revoke, name="staff_revoke"),
    path("staff/<int:pk>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("staff/<int:pk>/reactivate/", views.staff_reactivate, name="staff_reactivate"),
    path("staff/<int:pk>/password/", views.staff_password_reset, name="staff_password_reset"),
    path(
        "staff/<int:pk>/two-factor/reset/",
        views.staff_second_factor_reset,
        name="staff_second_factor_reset",
    ),
]
