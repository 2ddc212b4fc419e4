"""`python -m bench.profile_page PATH...`: where a page's Python time goes, on the bench data.

Signs in as a bench coordinator of the path's place (the real two-step form, Django's test
client), warms up, then profiles N requests of each path with cProfile and prints the
functions with the most time of their own and the most cumulative time. A tool for finding
what to make faster; the figures that count are `make bench`'s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys

from bench import common


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", help="e.g. /places/3/people/123/")
    parser.add_argument("--database-url", default=common.bench_database_url())
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args(argv)
    os.environ.update(common.app_environment(args.database_url))
    import django

    django.setup()
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bench.ratios import sign_in
    from dsr.places.models import Membership

    place_id = int(args.paths[0].split("/")[2])
    membership = Membership.objects.filter(place_id=place_id, role="coordinator").last()
    device = TOTPDevice.objects.get(user=membership.user, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    client = Client(HTTP_HOST="127.0.0.1")
    sign_in(client, membership.user.email, device.key)
    for path in args.paths:
        for _ in range(5):
            assert client.get(path).status_code == 200, path
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.repeat):
        for path in args.paths:
            client.get(path)
    profile.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(order)
        stats.print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
