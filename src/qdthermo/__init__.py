"""qdthermo: quantum thermodynamics of coupled transport in quantum-dot devices.

Describe a device, solve it into a frozen result, read its currents and
thermodynamics::

    import qdthermo as qd
    dev = qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, J=0.0,
                            T={"t": 2.0, "b": 1.0, "r": 1.0}, mu=0.0, gamma=1.0)
    res = qd.solve(dev)
    res.particle_current["t"]

Units and sign conventions: :mod:`qdthermo.units`.
"""

from qdthermo.kinetics import Method, fermi
from qdthermo.model import (
    Device,
    Dot,
    Interaction,
    Lead,
    System,
    Tunnel,
    coupled_transport,
    sanchez_buttiker,
    serial_double_dot,
    single_dot,
    three_terminal,
)
from qdthermo.sweep import sweep
from qdthermo.thermo import (
    InvalidPointsWarning,
    LindbladTrajectory,
    Regime,
    SteadyState,
    Trajectory,
    evolve,
    evolve_lindblad,
    observable,
    solve,
)
from qdthermo.thermo.coherent import CoherentState, evolve_coherent

__version__ = "0.1.0"

__all__ = [
    "CoherentState", "Device", "Dot", "Interaction", "InvalidPointsWarning", "Lead", "LindbladTrajectory", "Method",
    "Regime", "SteadyState", "System", "Trajectory", "Tunnel", "__version__", "coupled_transport", "evolve",
    "evolve_coherent", "evolve_lindblad",
    "fermi", "observable", "sanchez_buttiker", "serial_double_dot", "single_dot", "solve", "sweep", "three_terminal",
]
