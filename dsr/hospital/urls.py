from django.urls import path

from dsr.hospital import views

app_name = "hospital"
urlpatterns = [
    path("inpatients/", views.inpatients, name="inpatients"),
    path("people/<id:person_id>/admissions/new/", views.admission_new, name="admit"),
    path("admissions/<id:admission_id>/edit/", views.admission_edit, name="edit"),
    path("admissions/<id:admission_id>/discharge/", views.admission_discharge, name="discharge"),
    path("admissions/<id:admission_id>/visits/new/", views.visit_new, name="visit_new"),
    path("admissions/<id:admission_id>/after-discharge/", views.red_lift, name="red_lift"),
]
