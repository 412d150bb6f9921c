"""The kinetics layer: the generator of the master equation and the operations on it.

Structure once per network (:class:`~qdthermo.kinetics.network.Network`:
states, channels, directed jumps), values as batch-first arrays
(:class:`~qdthermo.kinetics.rates.Rates`), combined in
:class:`~qdthermo.kinetics.generator.PauliGenerator`: dense matrix, action,
steady state (registered routes: :mod:`~qdthermo.kinetics.steady`), time
evolution, and the Lindblad superoperator beside it
(:mod:`~qdthermo.kinetics.lindblad`).

This layer imports only :mod:`qdthermo.model` (and NumPy/SciPy); nothing
here knows about thermodynamics, sweeps, plots or the command line.
"""

from qdthermo.kinetics.generator import PauliGenerator, Stationary
from qdthermo.kinetics.network import Network, network
from qdthermo.kinetics.rates import Rates, fermi, rates
from qdthermo.kinetics.steady import STEADY_STATE_ROUTES, Method, register_route

__all__ = [
    "Method", "Network", "PauliGenerator", "Rates", "STEADY_STATE_ROUTES", "Stationary", "fermi", "network",
    "rates", "register_route",
]
