"""qdthermo: quantum thermodynamics of coupled transport in quantum-dot devices.

Describe a device, solve it into a frozen result, read its currents and
thermodynamics::

    import qdthermo as qd
    dev = qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, J=0.0,
                            T={"t": 2.0, "b": 1.0, "r": 1.0}, mu=0.0, gamma=1.0)
    res = qd.solve(dev)
    res.particle_current["t"]

Units and sign conventions: :mod:`qdthermo.units`.

>>> import qdthermo as qd
>>> res = qd.solve(qd.three_terminal(eps_L=1.0, eps_R=1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0}))
>>> bool(res.particle_current["t"] > 0), bool(res.entropy_production > 0)
(True, True)
>>> isinstance(qd.__version__, str)
True
"""

from qdthermo.design import optimize, pareto
from qdthermo.kinetics import Method, fermi
from qdthermo.model import (
    Device,
    Dot,
    Interaction,
    Lead,
    System,
    Tunnel,
    coupled_transport,
    dot_array,
    sanchez_buttiker,
    serial_double_dot,
    single_dot,
    three_terminal,
)
from qdthermo.sweeps import sweep
from qdthermo.thermo import (
    Fluctuations,
    InvalidPointsWarning,
    LindbladTrajectory,
    LinearResponse,
    Regime,
    Response,
    SteadyState,
    Trajectory,
    device_at_forces,
    evolve,
    evolve_lindblad,
    fluctuations,
    linear_response,
    observable,
    response,
    solve,
)
from qdthermo.thermo.coherent import CoherentState, evolve_coherent
from qdthermo.thermo.coherent_counting import CoherentFluctuations

__version__ = "0.1.0"

__all__ = [
    "__version__", "CoherentFluctuations", "CoherentState", "coupled_transport", "Device", "device_at_forces",
    "Dot", "dot_array",
    "evolve", "evolve_coherent", "evolve_lindblad", "fermi", "Fluctuations", "fluctuations", "Interaction",
    "InvalidPointsWarning", "Lead", "LindbladTrajectory", "linear_response", "LinearResponse", "Method",
    "observable", "optimize", "pareto", "Regime", "response", "Response", "sanchez_buttiker",
    "serial_double_dot", "single_dot", "solve", "SteadyState", "sweep", "System", "three_terminal",
    "Trajectory", "Tunnel",
]
