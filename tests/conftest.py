"""Shared test configuration.

Hypothesis profiles: ``default`` keeps CI fast; ``HYPOTHESIS_PROFILE=stress`` runs
many more examples when changing the engine.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("stress", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
