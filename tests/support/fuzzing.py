"""How far the generated-input tests look: bounded normally, far more under `make fuzz`."""

from __future__ import annotations

import os

from hypothesis import settings

LONG = os.environ.get("PARLEY_FUZZ") == "long"


def load_fuzz_profile() -> None:
    """Under PARLEY_FUZZ=long every property test tries thousands of examples."""
    settings.register_profile("long", max_examples=3_000)
    if LONG:
        settings.load_profile("long")
