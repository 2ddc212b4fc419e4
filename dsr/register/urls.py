from django.urls import path

from dsr.register import views

app_name = "register"
urlpatterns = [
    path("people/", views.register_list, name="list"),
    path("people/new/", views.person_add, name="add"),
    path("people/<id:person_id>/", views.person_detail, name="person"),
    path("people/<id:person_id>/transition/", views.transition, name="transition"),
    path("rising-risk/", views.rising_risk, name="rising_risk"),
]
