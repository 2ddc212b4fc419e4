"""The public self-referral form for parents and carers (no sign-in), where the place
allows it (PlaceSettings.parent_self_referral); otherwise how to be referred by a
professional.

Treated as hostile input: the body's size is capped before it is read, there are no
uploads, every field is limited, a honeypot field catches bots (they are shown the same
thank-you page, and nothing is written but the refusal's audit), and each client address
may post only so often (django-ratelimit, counted in the database: core/counters.py).
Nothing said back reveals anything about anyone: not whether the child is known here, nor
how many referrals there are (references are random).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import get_usage

from dsr.core.access import public
from dsr.core.forms import add_service_error
from dsr.core.once import once
from dsr.places.models import Place
from dsr.referrals import services
from dsr.referrals.forms import SelfReferralForm


def _largest_honest_body() -> int:
    """The most a browser sends for the form filled in to every limit: a character can take
    four bytes of UTF-8, each sent as %XX (12 bytes), and each field adds its name. A review
    found two answers within their limits, in Arabic, refused as too long at 32 KiB."""
    fields = SelfReferralForm.base_fields.values()
    return 4096 + sum(12 * (getattr(field, "max_length", None) or 64) + 64 for field in fields)


MAX_BODY = _largest_honest_body()  # bytes: about 110 KiB
SENT = "dsr_self_referral_sent"
POSTS, REFERRALS = "self-referral posts", "self-referrals"


def _place(place_ref: int) -> Place:
    place = Place.objects.select_related("settings").filter(pk=place_ref).first()
    if place is None:
        raise Http404("Not found")
    return place


def _too_many_posts(request: HttpRequest, place: Place) -> bool:
    """This address has posted the form too often in the window. Only the first refusal
    in a window is audited: auditing every one would let a flood fill the trail."""
    usage = get_usage(
        request,
        group=POSTS,
        key="ip",
        rate=settings.SELF_REFERRAL_ATTEMPTS_RATE,
        method="POST",
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return False
    if usage["count"] == usage["limit"] + 1:
        services.record_refused_submission(
            place=place, reason=f"rate limit: {POSTS}", client=request.META.get("REMOTE_ADDR", "")
        )
    return True


def _too_many_referrals(request: HttpRequest, place: Place, *, count: bool = False) -> bool:
    """This address has made as many referrals as the window allows (counted on success,
    so mistakes on the form do not use them up). Refusals are audited: the posts limit
    above bounds how many there can be."""
    usage = get_usage(
        request,
        group=REFERRALS,
        key="ip",
        rate=settings.SELF_REFERRAL_RATE,
        method="POST",
        increment=count,
    )
    if count or usage is None or usage["count"] < usage["limit"]:
        return False
    services.record_refused_submission(
        place=place, reason=f"rate limit: {REFERRALS}", client=request.META.get("REMOTE_ADDR", "")
    )
    return True


@public
@require_http_methods(["GET", "POST"])
def self_referral(request: HttpRequest, place_ref: int) -> HttpResponse:
    place = _place(place_ref)
    if not place.settings.parent_self_referral:
        return render(request, "referrals/public_not_taken.jinja", {"place": place})
    client = request.META.get("REMOTE_ADDR", "")
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            return render(request, "referrals/public_too_large.jinja", {"place": place}, status=413)
        if request.FILES:
            return render(request, "referrals/public_too_large.jinja", {"place": place}, status=400)
        if _too_many_posts(request, place) or _too_many_referrals(request, place):
            return render(request, "referrals/public_too_many.jinja", {"place": place}, status=429)
    form = SelfReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            services.record_refused_submission(place=place, reason="honeypot", client=client)
            request.session[SENT] = services.new_reference()  # looks the same to a bot
            return redirect(reverse("public:sent", args=[place.pk]))
        try:
            with once(form) as first:
                referral = (
                    services.submit_self_referral(
                        place=place, data=form.referral_data(), client=client
                    )
                    if first
                    else None
                )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if referral is not None:  # sent twice: the first's reference is the answer
                _too_many_referrals(request, place, count=True)
                request.session[SENT] = referral.reference
            return redirect(reverse("public:sent", args=[place.pk]))
    return render(request, "referrals/public_form.jinja", {"form": form, "place": place})


@public
@require_safe
def self_referral_sent(request: HttpRequest, place_ref: int) -> HttpResponse:
    place = _place(place_ref)
    reference = request.session.get(SENT)
    if not reference:
        return redirect(reverse("public:refer", args=[place.pk]))
    return render(request, "referrals/public_sent.jinja", {"place": place, "reference": reference})
