"""`python -m bench.slow_queries PATH...`: each query of a page with its time, slowest first,
on the bench data (signed in as a bench coordinator of the path's place, warmed up)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import common


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--database-url", default=common.bench_database_url())
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    os.environ.update(common.app_environment(args.database_url))
    import django

    django.setup()
    from django.db import connection
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
        client.get(path)
        totals: dict[int, list[float]] = {}
        texts: dict[int, str] = {}

        def timer(execute, sql, params, many, context, totals=totals, texts=texts):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                index = timer.index
                timer.index += 1
                totals.setdefault(index, []).append(time.perf_counter() - started)
                texts[index] = sql

        for _ in range(args.repeat):
            timer.index = 0  # type: ignore[attr-defined]
            with connection.execute_wrapper(timer):
                client.get(path)
        rows = sorted(((sorted(v)[len(v) // 2], i) for i, v in totals.items()), reverse=True)
        print(f"{path}: {len(rows)} queries, median total {sum(t for t, _ in rows) * 1000:.1f} ms")
        for took, index in rows:
            print(f"  {took * 1000:6.2f} ms  #{index:2d}  {texts[index][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
