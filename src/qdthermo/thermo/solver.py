"""``qd.solve``: describe, then solve into a frozen :class:`~qdthermo.thermo.result.SteadyState`."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import overload

import numpy as np

from qdthermo.kinetics.generator import PauliGenerator, Stationary
from qdthermo.kinetics.network import Network, network
from qdthermo.kinetics.rates import rates
from qdthermo.kinetics.steady import NOT_UNIQUE, Method
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo import observables as _observables  # noqa: F401  (registers the built-in observables)
from qdthermo.thermo.coherent import CoherentState, solve_coherent
from qdthermo.thermo.fused import CountingRequest, solve_fused
from qdthermo.thermo.result import SteadyState

__all__ = ["solve", "solve_for", "InvalidPointsWarning"]


class InvalidPointsWarning(UserWarning):
    """Some points of a batch have no unique steady state (their observables are NaN).

    Examples
    --------
    Turn it into an error to stop at the first batch with an unsolvable point:

    >>> import warnings, qdthermo as qd
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", qd.InvalidPointsWarning)
    ...     res = qd.solve(qd.single_dot(eps=[0.0, 1.0]))      # every point solvable: no warning
    >>> bool(res.valid.all())
    True
    """


def _parameters_at(device: Device, flat: int) -> str:
    """The device's parameters at one flat batch index, as ``name=value`` text."""
    index = np.unravel_index(flat, device.shape)
    parts = []
    for label, arr in device._arrays():
        value = np.broadcast_to(arr, device.shape)[index] if arr.shape else arr
        parts.append(f"{label}={float(value):.6g}")
    return ", ".join(parts)


def report_invalid(device: Device, stationary: Stationary | SteadyState) -> None:
    """Raise (scalar device) or warn once (batch) about points without a unique steady state."""
    bad = ~np.asarray(stationary.valid)
    if not np.any(bad):
        return
    reason = NOT_UNIQUE
    if stationary.route.startswith("sparse"):
        reason += (", or the sparse solve did not reach its residual tolerance or could not resolve the point"
                   " (see the ConvergenceWarning)")
    if device.shape == ():
        raise ValueError(f"{reason}; parameters: {_parameters_at(device, 0)}")
    first = int(np.flatnonzero(bad.ravel())[0])
    where = tuple(int(i) for i in np.unravel_index(first, device.shape))
    warnings.warn(f"{int(bad.sum())} of {bad.size} points have no steady state and are NaN (valid=False); "
                  f"the first, at index {where}: {reason}; parameters: {_parameters_at(device, first)}",
                  InvalidPointsWarning, stacklevel=3)


def _report_invalid_coherent(device: Device, state: CoherentState) -> None:
    """Warn once about the points of a batch that a density-matrix approach leaves NaN (a scalar raised)."""
    bad = ~np.asarray(state.valid)
    if device.shape == () or not np.any(bad):
        return
    first = int(np.flatnonzero(bad.ravel())[0])
    where = tuple(int(i) for i in np.unravel_index(first, device.shape))
    reason = "no unique steady state" + (", or clusters that admit no modified Hamiltonian (cluster_width)"
                                         if state.approach == "unified" else "")
    warnings.warn(f"{int(bad.sum())} of {bad.size} points are NaN (valid=False); the first, at index {where}: "
                  f"{reason}; parameters: {_parameters_at(device, first)}", InvalidPointsWarning, stacklevel=3)


@overload
def solve(device: Device, *, method: Method | str = ..., approach: None = ...) -> SteadyState: ...
@overload
def solve(device: Device, *, method: Method | str = ..., approach: str) -> SteadyState | CoherentState: ...


def solve(device: Device, *, method: Method | str = Method.AUTO,
          approach: str | None = None) -> SteadyState | CoherentState:
    """Solve the steady state of ``device`` for every parameter point at once.

    Parameters
    ----------
    device
        The device description (scalar or array parameters).
    method
        ``"auto"`` (default: the compiled route for batches of 10^6 points and
        more where Numba is available, else the closed-form matrix-tree route for the paper's
        4-state device, the dense batched GTH elimination (``"linear"``) up to
        256 states, the sparse route beyond; see ``kinetics.steady.choose_route``), ``"matrix_tree"``,
        ``"linear"``, ``"compiled"`` (the steady state and every built-in observable in one
        compiled pass, :mod:`qdthermo.thermo.fused`; ``"linear"`` without Numba),
        ``"sparse"``, ``"sparse_direct"``, ``"sparse_iterative"``,
        or any route registered with :func:`qdthermo.kinetics.steady.register_route`.
        For the density-matrix approaches: ``"auto"`` (dense batched below 16 states, the sparse
        route from 16), ``"dense"`` or ``"sparse"`` (docs/coherent.md).
    approach
        ``"pauli"`` (the rate equation: devices without interdot tunnelling),
        ``"global"``, ``"local"`` or ``"unified"`` (Lindblad master equations for the density
        matrix, returning a :class:`~qdthermo.thermo.coherent.CoherentState`;
        docs/coherent.md).  None: ``"pauli"`` (devices with tunnels must choose).

    Returns
    -------
    SteadyState
        Frozen result with populations, currents and thermodynamics.  Points
        without a unique steady state (disconnected transition graph) are NaN
        in every observable and False in ``result.valid``; one
        :class:`InvalidPointsWarning` names the first.

    Raises
    ------
    ValueError
        For an unknown method, or when a scalar device has no unique steady state.

    Examples
    --------
    The second law at every point of a batch of levels:

    >>> import numpy as np, qdthermo as qd
    >>> res = qd.solve(qd.single_dot(eps=np.linspace(-1, 1, 5), T={"L": 2.0, "R": 1.0}))
    >>> res.shape, res.populations.shape
    ((5,), (5, 2))
    >>> bool(np.all(res.entropy_production >= 0)), bool(res.valid.all())
    (True, True)
    """
    return solve_for(device, method=method, approach=approach)


def solve_for(device: Device, *, method: Method | str = Method.AUTO, approach: str | None = None,
              full: bool = True, counting: Callable[[System, Network], CountingRequest | None] | None = None
              ) -> SteadyState | CoherentState:
    """:func:`solve`; ``full=False`` lets a fused kernel compute only the populations, energies and entropy
    production in its pass (the rest on first use): for callers that read nothing else, e.g.
    :func:`~qdthermo.thermo.counting_statistics.fluctuations`; ``counting`` lets it compute counting
    statistics in the same pass (:func:`~qdthermo.thermo.fused.solve_fused`)."""
    if approach is None and device.tunnels:
        raise ValueError("this device has interdot tunnelling (qd.Tunnel): choose a density-matrix approach, "
                         "qd.solve(device, approach='global') or approach='local' (docs/coherent.md)")
    if approach is not None and approach != "pauli":
        state = solve_coherent(device, approach, method=method.value if isinstance(method, Method) else str(method))
        _report_invalid_coherent(device, state)
        return state
    if device.tunnels:
        raise ValueError("approach='pauli' cannot describe interdot tunnelling (qd.Tunnel): the rate equation "
                         "drops the coherences; use approach='global' or 'local' (docs/coherent.md)")
    system = device.finalized()
    # a route with a fused kernel: every observable (or what the counting statistics need) in one pass
    fused = solve_fused(device, system, method, full=full, counting=counting)
    if fused is not None:
        report_invalid(device, fused)
        return fused
    generator = PauliGenerator(network(system), rates(system))
    stationary = generator.steady_state(method=method)
    report_invalid(device, stationary)
    return SteadyState(device=device, system=system, generator=generator, populations=stationary.populations,
                       valid=stationary.valid, route=stationary.route)


