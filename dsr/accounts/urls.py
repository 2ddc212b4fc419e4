from django.urls import path

from dsr.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.verify, name="verify"),
    path("sign-in/set-up-authenticator/", views.enrol, name="enrol"),
    path("sign-in/set-up/<str:token>/", views.setup_link, name="setup_link"),
    path("sign-in/nhs/<slug:provider>/", views.oidc_start, name="oidc_start"),
    path("sign-in/nhs/<slug:provider>/callback/", views.oidc_callback, name="oidc_callback"),
    path("account/authenticator/", views.change_authenticator, name="change_authenticator"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("signed-out/", views.signed_out, name="signed_out"),
]
