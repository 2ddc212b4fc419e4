"""Sign in (password, then authenticator code; or an NHS identity), set-up links and
invitations, enrolment, sign out."""

from __future__ import annotations

import math
from base64 import b32encode
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from markupsafe import Markup

from dsr.accounts import limits, oidc, services
from dsr.accounts.forms import ChangeAuthenticatorForm, CodeForm, SetPasswordForm, SignInForm
from dsr.accounts.models import User
from dsr.core.access import public, second_factor_done, signed_in
from dsr.core.forms import add_service_error

PENDING_USER = "dsr_pending_user"
NEXT_URL = "dsr_next"
ENROLMENT_LINK = "dsr_enrolment_link"  # the set-up link this session came through (its id)
# The set-up link an NHS sign-in was started from (its page's button), for the callback to
# link the identity to: not any link this browser happens to have opened (found by a
# review: a link planted in someone's browser, then their own NHS sign-in from the sign-in
# page, linked their identity to the planter's account).
OIDC_LINK = "dsr_oidc_link"
PENDING_SECRET = "dsr_pending_secret"  # the secret being set up, this session's own
PENDING_SECRET_USER = "dsr_pending_secret_user"  # and whose it is
# The account whose password was given in this session (PENDING_USER is also set by an NHS
# sign-in without a second factor): what lets a set-up link link an NHS identity to an
# account with a password (oidc.account_for; found by a review).
PASSWORD_GIVEN = "dsr_password_given"
# What a session holds while someone signs in or sets up a second factor: gone once done.
SIGNING_IN = (PENDING_USER, ENROLMENT_LINK, PENDING_SECRET, PENDING_SECRET_USER, PASSWORD_GIVEN)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    if user_id is None:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes calls this once an email + address pair has failed too often."""
    return render(request, "accounts/locked_out.jinja", {}, status=429)


@public
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not second_factor_done(request):
        # Its authenticator replaced or removed since (another session's change, a reset):
        # a session that can reach nothing. It ends here, or "home" and this page would
        # send it to and fro for ever (a review).
        logout(request)
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    if request.method == "POST" and (refused := limits.refused(request, limits.SIGN_IN)):
        return refused
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        # Before the password is hashed: an account whose password was right too often
        if refused := limits.refused(request, limits.PASSWORDS, account=email):
            return refused
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if user is None:
            locked = bool(getattr(request, "axes_locked_out", False))
            limits.failed(request, limits.SIGN_IN, email=email, locked=locked)
            form.add_error(None, "Enter a correct email address and password")
        else:
            limits.succeeded(request, limits.PASSWORDS, account=email)
            link_id = request.session.get(ENROLMENT_LINK)
            request.session.cycle_key()
            request.session[NEXT_URL] = _safe_next(request, request.GET.get("next"))
            if settings.DSR_DEMO:
                services.complete_sign_in(request=request, user=user, device=None)
                return redirect(request.session.pop(NEXT_URL, "/"))
            request.session[PENDING_USER] = request.session[PASSWORD_GIVEN] = user.pk
            if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                return redirect("accounts:verify")
            if services.link_belongs(link_id=link_id, user=user):
                request.session[ENROLMENT_LINK] = link_id
                return redirect("accounts:enrol")
            # A password alone never binds an authenticator (issue 8): a set-up link must.
            limits.failed(
                request, limits.SIGN_IN, email=user.email, locked=False, step="no set-up link"
            )
            return render(request, "accounts/needs_link.jinja", {})
    return render(
        request,
        "accounts/sign_in.jinja",
        {"form": form, "providers": oidc.providers().values(), "next": request.GET.get("next", "")},
    )


@public
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:sign_in")
    if request.method == "POST" and (refused := limits.refused(request, limits.SIGN_IN, user=user)):
        return refused
    form = CodeForm(request.POST or None)
    wait = None
    if request.method == "POST" and form.is_valid():
        try:
            device = services.verify_code(user=user, code=form.cleaned_data["code"])
        except services.CodesThrottled as throttled:
            wait = throttled.wait_seconds
            limits.failed(
                request, limits.SIGN_IN, email=user.email, locked=False, step="code throttled"
            )
            form.add_error("code", f"Too many wrong codes. Wait {_duration(wait)} and try again")
        else:
            if device is not None:
                next_url = request.session.pop(NEXT_URL, "/")
                for key in (PENDING_USER, PASSWORD_GIVEN):
                    request.session.pop(key, None)
                services.complete_sign_in(request=request, user=user, device=device)
                return redirect(next_url)
            limits.failed(request, limits.SIGN_IN, email=user.email, locked=False, step="code")
            form.add_error("code", "The security code is not correct. Check your app and try again")
    return render(request, "accounts/verify.jinja", {"form": form, "wait": wait})


def _duration(seconds: int) -> str:
    """A wait as people say it: '1 second', '8 seconds', '5 minutes', '3 hours'."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = math.ceil(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _qr_svg(uri: str) -> Markup:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.find("<svg") :]
    # A labelled image for assistive technology; the key is also given as text.
    svg = svg.replace(
        "<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1
    )
    return Markup(svg)  # noqa: S704 - generated by qrcode from our own URI


@public
@require_http_methods(["GET", "POST"])
def setup_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link a user is emailed: an invitation (choose a password, or use an NHS
    identity) or a new second factor after a reset (ADR 0016).

    Each address may meet only so many unusable links (ADR 0031); one that names a real
    link (used, expired, replaced) is audited as its user's, where their auditors see it."""
    if (refused := limits.refused(request, limits.SET_UP_LINK)) is not None:
        return refused
    link = services.usable_link(token)
    if link is None:
        known = services.unusable_link(token)
        limits.failed(
            request,
            limits.SET_UP_LINK,
            email="(set-up link)",
            user=known[0] if known else None,
            details={"reason": known[1]} if known else None,
            locked=False,
            step="set-up link not usable",
        )
        return render(request, "accounts/link_not_usable.jinja", {}, status=404)
    # A new session for the link: a session someone else started (and planted in this
    # browser) must not gain the link, nor a password given in it count towards it.
    for key in SIGNING_IN:
        request.session.pop(key, None)
    request.session.cycle_key()
    request.session[ENROLMENT_LINK] = link.pk
    user = link.user
    if user.has_usable_password():  # the password first; then an NHS identity may be linked
        return render(request, "accounts/link_ready.jinja", {"email": user.email})
    options = {"email": user.email, "providers": oidc.providers().values(), "setting_up": True}
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_first_password(
                request=request,
                link=link,
                password=form.cleaned_data["password"],
                again=form.cleaned_data["again"],
            )
        except ValidationError as error:
            add_service_error(form, error)
            limits.failed(
                request,
                limits.SET_UP_LINK,
                email=user.email,
                locked=False,
                step="new password refused",
            )
        else:
            request.session.cycle_key()
            request.session[ENROLMENT_LINK] = link.pk
            request.session[PENDING_USER] = request.session[PASSWORD_GIVEN] = user.pk
            return redirect("accounts:enrol")
    return render(request, "accounts/set_password.jinja", {"form": form, **options})


# --- NHS sign-in (ADR 0017) --------------------------------------------------------------


def _provider(key: str) -> oidc.Provider:
    provider = oidc.providers().get(key)
    if provider is None:
        raise Http404("Not found")
    return provider


@public
@require_POST
def oidc_start(request: HttpRequest, provider: str) -> HttpResponse:
    chosen = _provider(provider)
    if (refused := limits.refused(request, limits.SIGN_IN)) is not None:
        return refused
    request.session[NEXT_URL] = _safe_next(request, request.POST.get("next"))
    link_id = request.session.get(ENROLMENT_LINK)
    if request.POST.get("set_up") and link_id is not None:
        request.session[OIDC_LINK] = link_id
    else:
        request.session.pop(OIDC_LINK, None)
    callback = settings.SITE_URL.rstrip("/") + reverse("accounts:oidc_callback", args=[chosen.key])
    try:
        return oidc.start(request, chosen, callback)
    except oidc.Refused as refusal:
        return _refused(request, chosen, refusal, label="")


def _refused(
    request: HttpRequest, chosen: oidc.Provider, refusal: oidc.Refused, label: str
) -> HttpResponse:
    """Audited (system chain), said in words, nothing else written. A refusal that concerns
    an account (a deactivated one's identity; one in the session of a user's set-up link)
    is audited as that account's, the identity asserted kept beside it (ADR 0031)."""
    user = refusal.user or services.link_user(request.session.get(ENROLMENT_LINK))
    limits.failed(
        request,
        limits.SIGN_IN,
        email=label or f"({chosen.label})",
        user=user,
        details={"identity": label} if user is not None and label else None,
        locked=False,
        step=f"NHS sign-in ({chosen.key}): {refusal.reason}",
    )
    return render(
        request,
        "accounts/oidc_refused.jinja",
        {"message": refusal.message, "provider": chosen},
        status=400,
    )


@public
@require_safe
def oidc_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider sends the browser back here with a code: checked, then the account it
    belongs to signed in, with the provider's multi-factor authentication or our own."""
    chosen = _provider(provider)
    if (refused := limits.refused(request, limits.SIGN_IN)) is not None:
        return refused
    link_id = request.session.pop(OIDC_LINK, None)
    answer = None
    try:
        answer = oidc.finish(request, chosen)
        user = oidc.account_for(
            request, answer, chosen, link_id, password_of=request.session.get(PASSWORD_GIVEN)
        )
    except oidc.Refused as refusal:
        label = (answer.email or f"{chosen.key}:{answer.subject}") if answer else ""
        return _refused(request, chosen, refusal, label=label)
    next_url = request.session.get(NEXT_URL, "/")
    request.session.cycle_key()
    if answer.multi_factor(chosen):
        if link_id is not None:
            services.use_link(link_id=link_id, user=user)
        for key in (*SIGNING_IN, NEXT_URL):
            request.session.pop(key, None)
        services.complete_sign_in(
            request=request,
            user=user,
            device=None,
            provider=chosen.key,
            idp_mfa=answer.mfa_record(chosen),
        )
        return redirect(next_url)
    # The provider did not assert a second factor: ours is still required.
    request.session[PENDING_USER] = user.pk
    request.session[NEXT_URL] = next_url
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:verify")
    if services.link_belongs(link_id=link_id, user=user):
        return redirect("accounts:enrol")
    limits.failed(request, limits.SIGN_IN, user=user, locked=False, step="no set-up link")
    return render(request, "accounts/needs_link.jinja", {})


def _pending_secret(request: HttpRequest, user: User) -> str:
    """The secret this session is setting up, for this user only: anyone else who signs in
    in the same browser (a shared computer) gets a new one, never the one another person
    left half set up and could copy into their own app (found by a review). Whose it is is
    kept beside it, the secret itself as before: a session from a server not yet upgraded
    (a rolling deploy) keeps the secret its user has already scanned."""
    secret = request.session.get(PENDING_SECRET)
    owner = request.session.get(PENDING_SECRET_USER, user.pk if secret else None)
    if not isinstance(secret, str) or owner != user.pk:
        secret = services.new_secret()
        request.session[PENDING_SECRET] = secret
    request.session[PENDING_SECRET_USER] = user.pk
    return secret


@public
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    link_id = request.session.get(ENROLMENT_LINK)
    if user is None or link_id is None:
        return redirect("accounts:sign_in")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:verify")
    if not services.link_belongs(link_id=link_id, user=user):  # replaced or run out since
        return render(request, "accounts/needs_link.jinja", {})
    if request.method == "POST" and (refused := limits.refused(request, limits.SIGN_IN, user=user)):
        return refused
    secret = _pending_secret(request, user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.enrol(
            request=request,
            user=user,
            link_id=link_id,
            secret=secret,
            code=form.cleaned_data["code"],
        )
        if device is not None:
            next_url = request.session.pop(NEXT_URL, "/")
            for key in SIGNING_IN:
                request.session.pop(key, None)
            services.complete_sign_in(request=request, user=user, device=device)
            return redirect(next_url)
        limits.failed(request, limits.SIGN_IN, email=user.email, locked=False, step="set-up code")
        form.add_error("code", "The security code is not correct. Check your app and try again")
    # Its password given in this session, an account may link its NHS identity instead
    # (oidc.account_for); one that signed in with that identity has it already.
    linkable = user.has_usable_password() and not user.identities.exists()
    return render(
        request,
        "accounts/enrol.jinja",
        {
            "form": form,
            **_to_scan(user, secret),
            "providers": oidc.providers().values() if linkable else (),
            "setting_up": True,
        },
    )


def _to_scan(user: User, secret: str) -> dict[str, Any]:
    """A new authenticator's secret as a QR code and as a key to type, four characters at
    a time."""
    uri = TOTPDevice(user=user, key=secret, name="Authenticator app").config_url
    shown = b32encode(bytes.fromhex(secret)).decode()
    return {
        "qr": _qr_svg(uri),
        "secret": " ".join(shown[i : i + 4] for i in range(0, len(shown), 4)),
    }


@signed_in
@require_http_methods(["GET", "POST"])
def change_authenticator(request: HttpRequest) -> HttpResponse:
    """A new phone, the old one still at hand: the current authenticator vouches for the new
    one, with no set-up link from the place admin (issue 8)."""
    user = request.user
    assert isinstance(user, User)
    has_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if not has_app:
        return render(request, "accounts/change_authenticator.jinja", {"has_app": False})
    if request.method == "POST" and (refused := limits.refused(request, limits.SIGN_IN, user=user)):
        return refused
    secret = _pending_secret(request, user)
    form = ChangeAuthenticatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.replace_authenticator(
                request=request,
                user=user,
                current=form.cleaned_data["current"],
                secret=secret,
                new=form.cleaned_data["new"],
            )
        except services.CodesThrottled as throttled:
            limits.failed(
                request,
                limits.SIGN_IN,
                user=user,
                locked=False,
                step="change authenticator: code throttled",
            )
            form.add_error(
                "current",
                f"Too many wrong codes. Wait {_duration(throttled.wait_seconds)} and try again",
            )
        except ValidationError as error:
            add_service_error(form, error)
            wrong = ", ".join(sorted(error.message_dict))
            limits.failed(
                request,
                limits.SIGN_IN,
                user=user,
                locked=False,
                step=f"change authenticator: {wrong} code",
            )
        else:
            # This session goes on with the new app (django-otp keeps the device it was
            # verified with: the old one is gone); every other session of the user, verified
            # with the old one, must sign in again.
            otp_login(request, device)
            for key in (PENDING_SECRET, PENDING_SECRET_USER):
                request.session.pop(key, None)
            messages.success(
                request, "Your new authenticator app is set up. The old one no longer works here"
            )
            return redirect("home")
    return render(
        request,
        "accounts/change_authenticator.jinja",
        {"has_app": True, "form": form, **_to_scan(user, secret)},
    )


@public
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.record_sign_out(request=request, user=request.user)  # type: ignore[arg-type]
    logout(request)
    return redirect("accounts:signed_out")


@public
@require_safe
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signed_out.jinja", {})
