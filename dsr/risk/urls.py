from django.urls import path

from dsr.risk import views

app_name = "risk"
urlpatterns = [
    path("<id:person_id>/rating/", views.rate_person, name="rate"),
    path("<id:person_id>/review/", views.review_person, name="review"),
    path("<id:person_id>/events/new/", views.event_new, name="event_new"),
    path("<id:person_id>/prompts/", views.prompts, name="prompts"),
]
