"""Thermodynamics: currents, entropy production, forces, cycles, regimes, devices.

The functions here work on batched arrays; the solved results
(:class:`~qdthermo.solve.result.SteadyState`, :class:`~qdthermo.solve.evolve.Trajectory`)
expose them as properties.
"""

from qdthermo.thermo.cycles import CycleBasis, Cycles, cycle_basis
from qdthermo.thermo.entropy import entropy_flow, entropy_production, entropy_rate, system_entropy
from qdthermo.thermo.forces import ForceBasis, force_basis, macroscopic_forces
from qdthermo.thermo.performance import Performance, current_resolution, performance
from qdthermo.thermo.regimes import Regime, Tolerance, classify

__all__ = [
    "CycleBasis", "Cycles", "ForceBasis", "Performance", "Regime", "Tolerance", "classify",
    "current_resolution", "cycle_basis", "entropy_flow", "entropy_production", "entropy_rate", "force_basis",
    "macroscopic_forces", "performance", "system_entropy",
]
