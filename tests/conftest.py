"""Test-suite settings: hypothesis is derandomized in CI (reproducible runs) and has no deadline (a
shared 2-core machine must not turn slow examples into failures)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
