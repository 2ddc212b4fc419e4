from django.urls import path

from dsr.keywork import views

app_name = "keywork"
urlpatterns = [
    path("people/<id:person_id>/keyworker/", views.allocate, name="allocate"),
    path("people/<id:person_id>/contacts/", views.contact_list, name="contacts"),
    path("people/<id:person_id>/contacts/new/", views.contact_new, name="contact_new"),
    path(
        "keywork/allocations/<id:allocation_id>/end/", views.allocation_end, name="allocation_end"
    ),
    path("caseloads/", views.caseloads, name="caseloads"),
    path("caseloads/<id:keyworker_id>/", views.caseload, name="caseload"),
]
