"""Static files for production: hashed names (cached for a year by whitenoise), compressed,
collected once by `make static` so that a server needs no Node (docs/deploy.md)."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStatic(CompressedManifestStaticFilesStorage):
    # app.js imports NHS.UK's module by path: the import is rewritten to the hashed name too.
    support_js_module_import_aggregation = True
    # A file we do not ship that another refers to (a source map) is left as it is.
    manifest_strict = False
