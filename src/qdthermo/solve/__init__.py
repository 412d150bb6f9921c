"""Rates, master equation, steady state and time evolution."""

from __future__ import annotations

from qdthermo.model.device import Device
from qdthermo.solve.master import rate_matrix
from qdthermo.solve.rates import Rates, fermi, rates
from qdthermo.solve.result import SteadyState
from qdthermo.solve.steady import Method, steady_state

__all__ = ["Method", "Rates", "SteadyState", "fermi", "rate_matrix", "rates", "solve", "steady_state"]


def solve(device: Device, *, method: Method | str = Method.AUTO) -> SteadyState:
    """Solve the steady state of ``device`` for every parameter point at once.

    Parameters
    ----------
    device
        The device description (scalar or array parameters).
    method
        :class:`Method`: ``"auto"`` (default: the closed-form matrix-tree route
        for networks of up to 4 states, the linear solve otherwise),
        ``"linear"`` or ``"matrix_tree"``.

    Returns
    -------
    SteadyState
        Frozen result with populations, currents and thermodynamics.
    """
    system = device.finalized()
    k = rates(system)
    P = steady_state(system, k, method=method)
    return SteadyState(device=device, system=system, rates=k, populations=P)
