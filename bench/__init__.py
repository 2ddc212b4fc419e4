"""The benchmark harness behind `make bench` (DESIGN.md "Tests": speed targets are benchmarks).

`python -m bench` generates (or reuses) a national-scale register and a small one on
PostgreSQL, serves the app with gunicorn, drives it over HTTP, and prints figures and
ratios against the targets. See bench/__main__.py for the steps.
"""
