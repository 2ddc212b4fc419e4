from django.urls import path

from dsr.referrals import public_views

app_name = "public"
urlpatterns = [
    path("refer/<id:place_ref>/", public_views.self_referral, name="refer"),
    path("refer/<id:place_ref>/sent/", public_views.self_referral_sent, name="sent"),
]
