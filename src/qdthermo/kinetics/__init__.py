"""The kinetics layer: the generator of the master equation and the operations on it.

Structure once per network (:class:`~qdthermo.kinetics.network.Network`:
states, channels, directed jumps), values as batch-first arrays
(:class:`~qdthermo.kinetics.rates.Rates`), combined in
:class:`~qdthermo.kinetics.generator.PauliGenerator`: dense matrix, action,
steady state (registered routes: :mod:`~qdthermo.kinetics.steady`), time
evolution, and the Lindblad superoperator beside it
(:mod:`~qdthermo.kinetics.lindblad`); the group (Drazin) inverse
(:mod:`~qdthermo.kinetics.group_inverse`) and full counting statistics on the
directed jumps: tilted generators, scaled cumulants of any order, joint cumulants,
finite-frequency noise (:mod:`~qdthermo.kinetics.counting`).

This layer imports only :mod:`qdthermo.model` (and NumPy/SciPy); nothing
here knows about thermodynamics, sweeps, plots or the command line.
"""

from qdthermo.kinetics import compiled, counting, group_inverse  # compiled: registers the route
from qdthermo.kinetics.generator import PauliGenerator, Stationary
from qdthermo.kinetics.network import Network
from qdthermo.kinetics.rates import Rates, fermi
from qdthermo.kinetics.steady import STEADY_STATE_ROUTES, Method, register_route

__all__ = [
    "Method", "Network", "PauliGenerator", "Rates", "STEADY_STATE_ROUTES", "Stationary", "compiled", "counting",
    "fermi", "group_inverse", "register_route",
]
