"""Password hashing: Argon2id with RFC 9106's second recommended parameters (issue 8).

t = 3 passes over m = 64 MiB with p = 4 lanes: strong, and light enough that a served
worker stays within its memory budget at sign-in (`make bench`: peak RSS). Hashes made with
other parameters are re-made at the user's next sign-in (Django's `must_update`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 3
    memory_cost = 64 * 1024  # KiB
    parallelism = 4
