"""Shared pytest configuration: hypothesis profile kept small so the suite stays fast."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "qdthermo", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("qdthermo")
