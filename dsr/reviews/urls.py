from django.urls import path

from dsr.reviews import views

app_name = "reviews"
urlpatterns = [
    path("cetrs/", views.cetr_schedule, name="schedule"),
    path("people/<id:person_id>/cetrs/new/", views.cetr_request, name="request"),
    path("cetrs/<id:cetr_id>/", views.cetr_detail, name="cetr"),
    path("cetrs/<id:cetr_id>/details/", views.cetr_details, name="details"),
    path("cetrs/<id:cetr_id>/held/", views.cetr_hold, name="hold"),
    path("cetrs/<id:cetr_id>/report/", views.cetr_report, name="report"),
    path("cetrs/<id:cetr_id>/cancel/", views.cetr_cancel, name="cancel"),
    path("cetrs/<id:cetr_id>/recommendations/new/", views.recommendation_new, name="recommend"),
]
