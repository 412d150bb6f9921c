"""Thermodynamics: currents, entropy production, forces, cycles, regimes, devices.

The functions here work on batched arrays; the solved results
(:class:`~qdthermo.thermo.result.SteadyState`, :class:`~qdthermo.thermo.trajectory.Trajectory`)
expose them as properties, and every exported quantity is registered once in
:mod:`qdthermo.thermo.registry`.  This layer imports :mod:`qdthermo.model` and
:mod:`qdthermo.kinetics`, never the sweeps, plots, paper or command line.
"""

from qdthermo.thermo.counting_statistics import Fluctuations, fluctuations
from qdthermo.thermo.cycles import CycleBasis, Cycles, cycle_basis
from qdthermo.thermo.entropy import entropy_flow, entropy_production, entropy_rate, system_entropy
from qdthermo.thermo.forces import ForceBasis, force_basis, macroscopic_forces
from qdthermo.thermo.onsager import LinearResponse, Response, device_at_forces, linear_response, response
from qdthermo.thermo.performance import Performance, current_resolution
from qdthermo.thermo.regimes import Regime, Tolerance, classify
from qdthermo.thermo.registry import OBSERVABLES, Observable, observable
from qdthermo.thermo.result import SteadyState
from qdthermo.thermo.solver import InvalidPointsWarning, solve
from qdthermo.thermo.trajectory import LindbladTrajectory, Trajectory, evolve, evolve_lindblad

__all__ = [
    "OBSERVABLES", "InvalidPointsWarning", "LindbladTrajectory", "Observable", "SteadyState", "Trajectory",
    "evolve", "evolve_lindblad", "observable", "solve", "Fluctuations", "fluctuations", "LinearResponse",
    "Response", "device_at_forces", "linear_response", "response",
    "CycleBasis", "Cycles", "ForceBasis", "Performance", "Regime", "Tolerance", "classify",
    "current_resolution", "cycle_basis", "entropy_flow", "entropy_production", "entropy_rate", "force_basis",
    "macroscopic_forces", "system_entropy",
]
