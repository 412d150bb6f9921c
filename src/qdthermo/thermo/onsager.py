"""Differential response and linear response (Onsager) in the force basis, exact from the generator.

Coordinates.  The forces of the basis (:mod:`qdthermo.thermo.forces`) are independent
coordinates of the leads' ``beta = 1/T`` and ``beta mu``:

* energy force of lead nu: ``beta_nu = beta_ref - F_E(nu)``, at fixed ``beta_nu mu_nu``;
* particle force of lead nu: ``beta_nu mu_nu = beta_ref_d mu_ref_d + F_N(nu)``;

the reference lead's ``T`` and ``mu`` (and ``beta mu`` of leads without a particle force)
are held fixed.  A channel of lead nu has ``x = beta_nu w - beta_nu mu_nu``, so
``dx/dF_E = -w`` and ``dx/dF_N = -1``, and with ``k^+ = Gamma f(x)``,
``k^- = Gamma (1 - f(x))``: ``dk^+/dF = -g dx/dF``, ``dk^-/dF = +g dx/dF``,
``g = Gamma f (1 - f)``.

Response.  Implicit differentiation of ``W P = 0``: ``dP/dF = -W^D (dW/dF) P`` with the
group (Drazin) inverse ``W^D`` (:mod:`qdthermo.kinetics.group_inverse`); then
``dJ_c = (dk^+ P_i - dk^- P_j) + k^+ dP_i - k^- dP_j`` per channel, summed into the
conjugate fluxes.  No finite differences.

Linear response.  At the equilibrium reached by switching every force of the basis off
(the reference lead's ``T`` and ``mu`` kept), ``L_ij = dJ_i/dF_j`` is the Onsager matrix:
symmetric (reciprocity) and positive semi-definite (second law); ``L = C_2 / 2`` with the
equilibrium covariance of the conjugate fluxes.  For a two-force (parallel-pair) device,
degree of coupling ``q = L_12 / sqrt(L_11 L_22)``, figure of merit ``ZT = q^2/(1 - q^2)``,
maximum efficiency ``eta_max / eta_C = (sqrt(1 + ZT) - 1)/(sqrt(1 + ZT) + 1)`` and
efficiency at maximum power ``eta(P_max)/eta_C = q^2 / (2 (2 - q^2))`` (Van den Broeck,
PRL 95, 190602 (2005)): valid to first order in the forces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo import _compiled
from qdthermo._special import expit
from qdthermo.kinetics.dense import rate_matrix
from qdthermo.kinetics.group_inverse import drazin_apply
from qdthermo.kinetics.rates import Rates
from qdthermo.kinetics.steady import Method
from qdthermo.model.device import Device
from qdthermo.thermo._response_kernel import MAX_STATES, response_device
from qdthermo.thermo.forces import conjugate_fluxes, force_basis, is_energy
from qdthermo.thermo.fused import kernel_inputs
from qdthermo.thermo.result import SteadyState
from qdthermo.thermo.solver import solve_for

__all__ = ["Response", "LinearResponse", "response", "linear_response", "device_at_forces"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Response:
    """``dJ_i/dF_j`` at every point (read-only).

    Attributes
    ----------
    result
        The steady state where the response is taken.
    matrix
        ``(*shape, k, k)``: ``matrix[..., i, j] = dJ_i / dF_j`` (units of J_i over units of F_j).
    fluxes, forces
        Labels of the rows and columns (``result.fluxes`` / ``result.forces`` names).
    route
        Which route computed ``matrix``: ``"compiled"`` (the per-point kernel) or ``"numpy"``
        (the reference route); see ``engine`` of :func:`response`.

    Examples
    --------
    >>> import qdthermo as qd
    >>> rsp = qd.response(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0))
    >>> rsp.fluxes, rsp.forces, rsp.matrix.shape
    (('J_E', 'J_R', 'J_N'), ('F_E', 'F_R', 'F_N'), (3, 3))
    >>> bool(rsp.coefficient("J_N", "F_N") == rsp.matrix[2, 2])
    True
    """

    result: SteadyState
    matrix: Array
    fluxes: tuple[str, ...]
    forces: tuple[str, ...]
    route: str = "numpy"

    def coefficient(self, flux: str, force: str) -> Array:
        """``dJ_flux / dF_force``, batch-shaped (names as in :attr:`fluxes`, :attr:`forces`)."""
        for label, names in ((flux, self.fluxes), (force, self.forces)):
            if label not in names:
                raise ValueError(f"unknown name {label!r}; allowed: {list(names)}")
        return self.matrix[..., self.fluxes.index(flux), self.forces.index(force)]  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class LinearResponse(Response):
    """The Onsager matrix at the equilibrium of a device (see the module docstring).

    Attributes
    ----------
    result
        The equilibrium steady state (every force zero).
    matrix
        ``(*shape, k, k)`` Onsager matrix ``L_ij = dJ_i/dF_j`` at equilibrium
        (units of J_i over units of F_j).
    fluxes, forces, route
        Labels of the rows and columns, and the route, as in :class:`Response`.

    Examples
    --------
    Onsager reciprocity and a positive semidefinite matrix at equilibrium:

    >>> import numpy as np, qdthermo as qd
    >>> lr = qd.linear_response(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0))
    >>> bool(np.allclose(lr.matrix, np.swapaxes(lr.matrix, -1, -2)))
    True
    >>> bool(lr.min_eigenvalue >= 0)
    True
    """

    @property
    def onsager(self) -> Array:
        """``(*shape, k, k)`` Onsager matrix ``L_ij = dJ_i/dF_j`` at equilibrium."""
        return self.matrix

    @cached_property
    def reciprocity_error(self) -> Array:
        """``max |L - L^T| / max |L|`` per point (0 up to round-off: Onsager reciprocity)."""
        L = self.matrix
        scale = np.max(np.abs(L), axis=(-2, -1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out: Array = np.max(np.abs(L - np.swapaxes(L, -1, -2)), axis=(-2, -1)) / scale
        return out

    @cached_property
    def min_eigenvalue(self) -> Array:
        """Smallest eigenvalue of the symmetric part of ``L`` (>= 0 up to round-off: second law)."""
        L = self.matrix
        return np.asarray(np.linalg.eigvalsh(0.5 * (L + np.swapaxes(L, -1, -2)))[..., 0], dtype=np.float64)

    def degree_of_coupling(self, a: str | None = None, b: str | None = None) -> Array:
        """``q = L_ab / sqrt(L_aa L_bb)`` (default: the device's parallel pair), in [-1, 1]."""
        a, b = self._pair(a, b)
        i, j = self.fluxes.index(a), self.fluxes.index(b)
        L = self.matrix
        with np.errstate(invalid="ignore", divide="ignore"):
            return L[..., i, j] / np.sqrt(L[..., i, i] * L[..., j, j])  # type: ignore[no-any-return]

    def _q2(self, a: str | None, b: str | None) -> Array:
        """``q^2``, at most 1 (round-off of a tightly coupled pair can exceed it by an ulp)."""
        return np.minimum(self.degree_of_coupling(a, b) ** 2, 1.0)

    def figure_of_merit(self, a: str | None = None, b: str | None = None) -> Array:
        """``ZT = q^2 / (1 - q^2)`` of a two-force pair (inf at tight coupling, ``|q| = 1``)."""
        q2 = self._q2(a, b)
        with np.errstate(divide="ignore"):
            return q2 / (1.0 - q2)  # type: ignore[no-any-return]

    def max_efficiency(self, a: str | None = None, b: str | None = None) -> Array:
        """Maximum efficiency over Carnot, ``(sqrt(1 + ZT) - 1)/(sqrt(1 + ZT) + 1)``, in linear response.

        Evaluated as ``q^2 / (1 + sqrt(1 - q^2))^2`` (the same, without cancellation at small ``q``): 1 at
        tight coupling (``ZT = inf``).
        """
        q2 = self._q2(a, b)
        return q2 / (1.0 + np.sqrt(1.0 - q2)) ** 2  # type: ignore[no-any-return]

    def efficiency_at_max_power(self, a: str | None = None, b: str | None = None) -> Array:
        """Efficiency at maximum power over Carnot, ``q^2 / (2 (2 - q^2))``, in linear response."""
        q2 = self._q2(a, b)
        return q2 / (2.0 * (2.0 - q2))  # type: ignore[no-any-return]

    def _pair(self, a: str | None, b: str | None) -> tuple[str, str]:
        if a is not None and b is not None:
            return a, b
        pair = self.result.system.parallel_pair
        if pair is None:
            raise ValueError(f"device {self.result.system.name!r} has no parallel force pair: name two fluxes "
                             f"of {list(self.fluxes)}")
        return f"J_{pair[0]}", f"J_{pair[1]}"


def _channel_force_derivatives(result: SteadyState, w: Array, shape: tuple[int, ...]) -> Array:
    """``(*shape, n_channels, k)``: ``dx_c / dF_j`` in the coordinates of the module docstring (``w``: channel
    energies, broadcastable to ``(*shape, n_channels)``)."""
    s, basis = result.system, result.force_basis
    n_ch, k = s.n_channels, len(basis.force_names)
    out = np.zeros(shape + (n_ch, k))
    for j in range(k):
        on = s.channel_lead == basis.lead[j]
        out[..., on, j] = -w[..., on] if basis.kind[j] == "E" else -1.0
    return out


def _response_numpy(result: SteadyState, points: NDArray[np.intp] | None = None) -> Array:
    """``(*shape, k, k)`` exact ``dJ_i/dF_j`` of a solved steady state by NumPy (the reference route).

    With ``points`` (flat indices into the batch), only there: ``(len(points), k, k)``.
    """
    s, net, shape = result.system, result.generator.network, result.shape

    def at(a: ArrayLike, tail: int) -> Array:
        a = np.asarray(a)
        if points is None:
            return a
        trailing = a.shape[a.ndim - tail:]
        return np.broadcast_to(a, shape + trailing).reshape((-1,) + trailing)[points]

    k = result.rates if points is None else Rates(*(at(a, 1) for a in (
        result.rates.plus, result.rates.minus, result.rates.log_ratio, result.rates.coupling)))
    P, w = at(result._P, 1), at(s.channel_energy, 1)
    Pi, Pj = s.on_channels(P)
    dx = _channel_force_derivatives(result, w, shape if points is None else (len(points),))  # (*shape, C, m)
    g = k.coupling * expit(k.log_ratio) * expit(-k.log_ratio)  # Gamma f (1 - f)
    dflux_fixed = -(g * (Pi + Pj))[..., None] * dx  # (dk+ P_i - dk- P_j), (*shape, C, m)
    n = s.n_states
    diff = np.zeros((s.n_channels, n))
    diff[np.arange(s.n_channels), s.channel_final] += 1.0
    diff[np.arange(s.n_channels), s.channel_initial] -= 1.0
    b = np.einsum("cn,...cm->...nm", diff, dflux_fixed)  # (dW/dF) P, (*shape, n, m)
    W = result.rate_matrix if points is None else rate_matrix(net, k)
    dP = -drazin_apply(W, P, b, cut_unoccupied=True)  # (*shape, n, m); P of the exact chain
    dPi, dPj = (np.swapaxes(a, -1, -2) for a in s.on_channels(np.swapaxes(dP, -1, -2)))
    dflux = dflux_fixed + k.plus[..., None] * dPi - k.minus[..., None] * dPj  # (*shape, C, m)
    dflux_t = np.swapaxes(dflux, -1, -2)  # (*shape, m, C)
    dN = s.lead_sum(dflux_t)
    dE = s.lead_sum(dflux_t * w[..., None, :])
    J = np.swapaxes(conjugate_fluxes(result.force_basis, dN, dE), -1, -2)  # (*shape, k [fluxes i], m [forces j])
    if points is None:
        return result._masked(J, 2)
    return np.where(np.asarray(result.valid).reshape(-1)[points, None, None], J, np.nan)


def _response_compiled(result: SteadyState) -> Array:
    """``(*shape, k, k)`` by the compiled kernel (:mod:`qdthermo.thermo._response_kernel`), rates formed from
    the parameters; the points whose elimination needs pivoting by :func:`_response_numpy`."""
    net, basis = result.generator.network, result.force_basis
    P = np.asarray(result._P).reshape(-1, net.n_states)
    matrix, fallback = response_device(
        net.n_states, net.source, net.target, kernel_inputs(result.system), (net.initial, net.final, net.lead),
        np.asarray(basis.lead), is_energy(basis), P,
        valid=None if result._all_valid else np.asarray(result.valid))
    if len(fallback):
        matrix[fallback] = _response_numpy(result, fallback)
    return matrix.reshape(result.shape + matrix.shape[1:])


#: the engines of :func:`response` and :func:`linear_response` (``engine=``)
ENGINES = ("auto", "numpy", "compiled")
#: ``engine="auto"`` takes the compiled kernel from this many points: its one-off cost (importing Numba and
#: loading the kernel, 0.6-1 s) is then below the NumPy route's time (~3.5 us a point on the paper's device
#: against ~0.2 us compiled: ``benchmarks/response.py``).  The routes differ in round-off (~1e-15 relative),
#: so the choice depends on the batch size alone, never on what ran before in the process.
COMPILED_MIN_POINTS = 200_000


def _response_route(n_states: int, n_points: int, engine: str) -> str:
    """``"compiled"`` or ``"numpy"``: the route of ``engine`` for ``n_points`` points of ``n_states`` states."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    usable = n_states <= MAX_STATES and _compiled.available()
    if usable and (engine == "compiled" or (engine == "auto" and n_points >= COMPILED_MIN_POINTS)):
        return "compiled"
    return "numpy"


def _solve(device: Device, method: Method | str) -> SteadyState:
    """The steady state the response is taken at (a fused kernel computes only what the response reads in its
    pass; every other observable of the result is formed on first use)."""
    result = solve_for(device, method=method, full=False)
    if not isinstance(result, SteadyState):  # pragma: no cover - solve_for refuses coherent devices here
        raise TypeError(f"the response needs a rate-equation steady state, got {type(result).__name__}")
    return result


def _response_matrix(result: SteadyState, route: str) -> Array:
    """``(*shape, k, k)`` exact ``dJ_i/dF_j`` of a solved steady state, by ``route``."""
    return _response_compiled(result) if route == "compiled" else _response_numpy(result)


def response(device: Device, *, method: Method | str = Method.AUTO, engine: str = "auto") -> Response:
    """``dJ_i/dF_j`` at every (non-equilibrium) point of ``device``, exact (see the module docstring).

    Parameters
    ----------
    device
        The device description (scalar or array parameters).
    method
        Steady-state route, as for :func:`qdthermo.solve`.
    engine
        ``"auto"`` (default: the compiled kernel from ``COMPILED_MIN_POINTS`` = 200 000 points of a
        network of at most 256 states where Numba is available, else NumPy), ``"compiled"`` (the
        kernel at any batch size; NumPy where unavailable) or ``"numpy"`` (the reference route).
        Both give the same matrix to round-off; :attr:`Response.route` tells which one ran.

    Returns
    -------
    Response
        ``matrix`` of shape ``(*shape, k, k)`` labelled by the flux and force names.

    Raises
    ------
    ValueError
        For an unknown method (as :func:`qdthermo.solve`) or ``engine``.

    Examples
    --------
    The particle current's response to its own force, far from equilibrium:

    >>> import qdthermo as qd
    >>> rsp = qd.response(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0))
    >>> rsp.matrix.shape
    (3, 3)
    >>> bool(rsp.coefficient("J_N", "F_N") > 0)
    True
    """
    _response_route(1, 1, engine)  # a bad engine fails before solving
    result = _solve(device, method)
    basis = result.force_basis
    route = _response_route(result.generator.network.n_states, int(np.prod(result.shape)), engine)
    return Response(result, _response_matrix(result, route), basis.flux_names, basis.force_names, route)


def device_at_forces(device: Device, forces: Mapping[str, ArrayLike]) -> Device:
    """A copy of ``device`` with the named forces set (others unchanged), in the coordinates above.

    Parameters
    ----------
    device
        The device.
    forces
        Force name (``F_E``, ``F_N``, ...) -> value (energy forces [1/energy], particle forces [1]).

    Returns
    -------
    Device
        The same device with its leads' ``T`` and ``mu`` set to give those forces.

    Raises
    ------
    ValueError
        An unknown force name, or forces that would give a lead ``1/T <= 0``.

    Examples
    --------
    Switch off the particle force of the paper's device, keeping F_E:

    >>> import qdthermo as qd
    >>> dev = qd.device_at_forces(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0), {"F_N": 0.0})
    >>> qd.solve(dev).forces
    {'F_E': 0.5, 'F_R': 0.0, 'F_N': 0.0}
    """
    basis = force_basis(device)
    unknown = [f for f in forces if f not in basis.force_names]
    if unknown:
        raise ValueError(f"unknown force(s) {unknown}; this device's forces are {list(basis.force_names)}")
    beta = [1.0 / np.asarray(lead.temperature, dtype=float) for lead in device.leads]
    beta_mu = [b * np.asarray(lead.chemical_potential, dtype=float) for b, lead in zip(beta, device.leads)]
    new_beta, new_beta_mu = list(beta), list(beta_mu)
    for j, name in enumerate(basis.force_names):
        if name not in forces:
            continue
        nu, ref = int(basis.lead[j]), int(basis.reference[j])
        value = np.asarray(forces[name], dtype=float)
        if basis.kind[j] == "E":
            new_beta[nu] = beta[ref] - value
        else:
            new_beta_mu[nu] = beta_mu[ref] + value
    for nu, b in enumerate(new_beta):
        if np.any(~(b > 0)):
            raise ValueError(f"the forces give lead {device.leads[nu].name!r} a non-positive 1/T "
                             f"(allowed: F_E < 1/T_ref); got 1/T = {np.min(b)!r}")
    leads = tuple(dataclasses.replace(lead, temperature=1.0 / b, chemical_potential=bm / b)
                  for lead, b, bm in zip(device.leads, new_beta, new_beta_mu))
    return dataclasses.replace(device, leads=leads)


def linear_response(device: Device, *, method: Method | str = Method.AUTO, engine: str = "auto") -> LinearResponse:
    """The Onsager matrix at the equilibrium reached by switching every force of ``device`` off.

    The reference lead's ``T`` and ``mu`` are kept (see the module docstring).

    Parameters
    ----------
    device
        The device description (scalar or array parameters); its forces are ignored.
    method
        Steady-state route, as for :func:`qdthermo.solve`.
    engine
        ``"auto"``, ``"compiled"`` or ``"numpy"``, as for :func:`response`.

    Returns
    -------
    LinearResponse
        ``onsager`` of shape ``(*shape, k, k)`` [flux unit / force unit], labelled by the
        flux and force names, with ``reciprocity_error`` and ``min_eigenvalue``; ``shape`` is the
        device's batch shape also where only forces vary along an axis (the equilibrium, its
        ``result``, is then the same along it and has fewer axes).

    Examples
    --------
    >>> import qdthermo as qd
    >>> lr = qd.linear_response(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0))
    >>> lr.fluxes
    ('J_E', 'J_R', 'J_N')
    >>> bool(lr.min_eigenvalue >= 0)
    True
    """
    _response_route(1, 1, engine)  # a bad engine fails before solving
    basis = force_basis(device)
    eq = device_at_forces(device, {name: 0.0 for name in basis.force_names})
    result = _solve(eq, method)
    route = _response_route(result.generator.network.n_states, int(np.prod(result.shape)), engine)
    L = _response_matrix(result, route)
    # the equilibrium drops the axes along which only forces vary: the matrix keeps the device's batch shape
    L = np.broadcast_to(L, np.broadcast_shapes(device.shape, result.shape) + L.shape[-2:])
    return LinearResponse(result, L, basis.flux_names, basis.force_names, route)
