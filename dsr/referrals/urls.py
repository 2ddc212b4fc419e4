from django.urls import path

from dsr.referrals import views

app_name = "referrals"
urlpatterns = [
    path("referrals/", views.queue, name="queue"),
    path("referrals/new/", views.referral_new, name="new"),
    path("referrals/<id:referral_id>/", views.referral_detail, name="detail"),
    path("referrals/<id:referral_id>/first-contact/", views.first_contact, name="first_contact"),
    path(
        "referrals/<id:referral_id>/more-information/",
        views.more_information,
        name="more_information",
    ),
    path("referrals/<id:referral_id>/decline/", views.decline, name="decline"),
    path("referrals/<id:referral_id>/accept/", views.accept, name="accept"),
    path("people/<id:person_id>/transfer/", views.transfer, name="transfer"),
]
