from django.urls import path

from dsr.consent import views

app_name = "consent"
urlpatterns = [
    path("<id:person_id>/consent/", views.consent_history, name="history"),
    path("<id:person_id>/consent/new/", views.consent_new, name="new"),
    path("<id:person_id>/consent/withdraw/", views.consent_withdraw, name="withdraw"),
]
