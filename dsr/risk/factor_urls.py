from django.urls import path

from dsr.risk import factor_views

app_name = "riskfactors"
urlpatterns = [
    path("", factor_views.factors, name="list"),
    path("<id:factor_id>/", factor_views.factor_edit, name="edit"),
]
