"""Thermodynamics: currents, entropy production, forces, cycles, regimes, devices."""
