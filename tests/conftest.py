"""Shared pytest configuration: hypothesis profile kept small so the suite stays fast."""

import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "qdthermo", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("qdthermo")


@pytest.fixture(scope="module", params=["numpy", "compiled"])
def steady_route(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test module twice: ``"auto"`` on the NumPy routes, then ``"auto"`` on the compiled route.

    The compiled run lowers :data:`~qdthermo.kinetics.steady.COMPILED_MIN_POINTS` to 1, so every
    ``qd.solve(device)`` (and every ``"auto"`` steady state) takes the fused compiled kernel, and the
    thresholds of the counting statistics', the response's and the microscopic forces' ``engine="auto"``
    with it; the NumPy run raises them all.
    """
    from qdthermo import _compiled
    from qdthermo.kinetics import steady
    from qdthermo.thermo import counting_statistics, cycles, onsager

    if request.param == "compiled" and not _compiled.available():
        pytest.skip("Numba unavailable or disabled")
    threshold = 1 if request.param == "compiled" else sys.maxsize
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(steady, "COMPILED_MIN_POINTS", threshold)
        mp.setattr(counting_statistics, "COMPILED_MIN_POINTS", threshold)
        mp.setattr(counting_statistics, "COMPILED_WARM_MIN_POINTS", threshold)
        mp.setattr(counting_statistics, "SPECTRUM_COMPILED_MIN_PAIRS", threshold)
        mp.setattr(onsager, "COMPILED_MIN_POINTS", threshold)
        mp.setattr(cycles, "COMPILED_MIN_POINTS", threshold)
        yield request.param
