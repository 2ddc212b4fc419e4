from django.urls import path

from dsr.meetings import pack_views, views

app_name = "meetings"
urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/new/", views.meeting_new, name="new"),
    path("meetings/<id:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<id:meeting_id>/details/", views.meeting_edit, name="edit"),
    path("meetings/<id:meeting_id>/attendees/new/", views.attendee_new, name="attendee_new"),
    path(
        "meetings/<id:meeting_id>/attendees/<id:attendee_id>/absent/",
        views.attendee_absent,
        name="attendee_absent",
    ),
    path("meetings/<id:meeting_id>/prepare/", views.agenda_prepare, name="prepare"),
    path("meetings/<id:meeting_id>/agenda/new/", views.item_new, name="item_new"),
    path(
        "meetings/<id:meeting_id>/agenda/<id:item_id>/remove/",
        views.item_remove,
        name="item_remove",
    ),
    path("meetings/<id:meeting_id>/start/", views.meeting_start, name="start"),
    path("meetings/<id:meeting_id>/finish/", views.meeting_finish, name="finish"),
    path("meetings/<id:meeting_id>/agenda/<id:item_id>/", views.item_discuss, name="item"),
    # The pack before the meeting and the minutes after: a printable page and a Word file.
    path("meetings/<id:meeting_id>/pack/", pack_views.pack_page, name="pack"),
    path("meetings/<id:meeting_id>/pack.docx", pack_views.pack_docx, name="pack_docx"),
    path("meetings/<id:meeting_id>/minutes/", pack_views.minutes_page, name="minutes"),
    path("meetings/<id:meeting_id>/minutes.docx", pack_views.minutes_docx, name="minutes_docx"),
]
