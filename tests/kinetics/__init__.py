"""Tests of the kinetics layer (group inverse, counting statistics)."""
