from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models

from dsr.core.compiled import ShapedQuerySet


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> Any:
        return ShapedQuerySet(self.model, using=self._db)  # SQL written once a shape (ADR 0029)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Email is the sign-in name; access comes from memberships."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email


class LinkPurpose(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    SECOND_FACTOR = "second_factor", "Second factor set-up"


class EnrolmentLink(models.Model):
    """A one-time, expiring link: an invitation (the user sets a password, unless they sign
    in with their NHS identity, and sets up their second factor), or a new second factor
    after a reset (ADR 0016).

    A password alone never binds an authenticator: whoever learns it must also hold the
    link, emailed to the user when their place admin invites them or resets their second
    factor. Only a hash of the token is kept.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="enrolment_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.CharField(max_length=254)
    purpose = models.CharField(
        max_length=16, choices=LinkPurpose.choices, default=LinkPurpose.SECOND_FACTOR
    )

    def __str__(self) -> str:
        return f"Set-up link for {self.user} ({'used' if self.used_at else 'unused'})"


class UserSession(AbstractBaseSession):
    """A database session that knows whose it is, so that deactivating an account or
    resetting its second factor ends its sessions at once (dsr/accounts/sessions.py)."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    # The second factor that verified the session, read with the row (as its user is) for
    # the OTP middleware (dsr/accounts/backends.py). A reference for that read, not a
    # constraint: a device deleted while a session names it leaves the session to be
    # refused by the middleware's own checks, never a failed save.
    device = models.ForeignKey(
        "otp_totp.TOTPDevice",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    @classmethod
    def get_session_store_class(cls) -> Any:
        from dsr.accounts.sessions import SessionStore

        return SessionStore


class ExternalIdentity(models.Model):
    """An account's identity at an NHS identity provider (CIS2, Entra ID), linked once
    through the user's own invitation or set-up link: sign-in by OpenID Connect finds the
    account by (issuer, subject) only, never by an email the provider asserts (ADR 0017)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="identities")
    provider = models.CharField(max_length=32)
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="identity_unique"),
            models.UniqueConstraint(fields=["user", "issuer"], name="identity_one_per_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.provider}"
