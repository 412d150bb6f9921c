"""Every thermodynamics test module runs on both routes: NumPy and the fused compiled kernel."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _both_routes(request: pytest.FixtureRequest, steady_route: str) -> None:
    if request.module.__name__.endswith("test_fused") and steady_route == "compiled":
        pytest.skip("test_fused chooses its routes explicitly: one run is enough")
