"""Full counting statistics of the density-matrix approaches: :class:`CoherentFluctuations`.

``qd.fluctuations(device, approach="global" | "local")`` counts the transfers of the
jump operators of each lead's dissipator in the tilted Liouvillian

    L(chi) = L + sum_nu sum_k (exp(i chi . d_{nu,k}) - 1) J_{nu,k},   J_{nu,k} rho = L_k rho L_k^+,

with the same API and conventions as the rate-equation :class:`~qdthermo.thermo.counting_statistics.Fluctuations`
(``C_k = d^k lambda / d(i chi)^k``, no factor 2).  Each jump of lead ``nu`` that brings an electron
into the system transfers ``N_nu = +1``, ``E_nu = w`` and ``Q_nu = w - mu_nu``, with ``w`` the energy
its rate was evaluated at (the Bohr frequency of the eigen-transition for ``"global"``; the bare
transition energy of the dot for ``"local"``; the cluster frequency for ``"unified"``), and
``entropy = -(w - mu_nu) / T_nu``; a jump out the opposite amounts.  Grouped jumps of one cluster
share ``w`` (the pair mean is used).

Consistency with the mean currents of :class:`~qdthermo.thermo.coherent.CoherentState`:
``C_1(N_nu)`` is the particle current for every approach.  For ``"global"``
``C_1(E_nu) = Tr[H D_nu(rho)]`` (the energy current), hence also ``Q`` and the entropy production;
for ``"unified"`` the same with the modified Hamiltonian ``H~`` the energy currents are measured with.
For ``"local"`` ``C_1(E_nu) = Tr[H_0 D_nu(rho)]`` with ``H_0`` the Hamiltonian without
tunnelling: the local jumps carry no definite energy of the full ``H``, and the difference
``Tr[H_T D_nu(rho)]`` is of order ``Gamma t`` (docs/coherent.md).

The engine is :func:`qdthermo.kinetics.counting.trace_cumulants` (the group-inverse recursion with
the trace functional), on the Liouvillian of the equal-N block in complex coordinates
(:attr:`~qdthermo.kinetics.coherent.CoherentGenerator.block_generator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qdthermo.kinetics import counting
from qdthermo.thermo.coherent import CoherentState
from qdthermo.thermo.counting_api import ROUND_OFF, CountingAPI

__all__ = ["CoherentFluctuations", "coherent_counted_quantities"]

Array = NDArray[np.float64]


def coherent_counted_quantities(result: CoherentState) -> tuple[str, ...]:
    """Names of every quantity that can be counted for a density-matrix result."""
    leads = result.system.lead_names
    return (*(f"N_{lead}" for lead in leads), *(f"E_{lead}" for lead in leads), *(f"Q_{lead}" for lead in leads),
            "entropy")


@dataclass(frozen=True, eq=False)
class CoherentFluctuations(CountingAPI):
    """Counting statistics of a density-matrix steady state (read-only; see the module docstring).

    Attributes
    ----------
    result
        The :class:`~qdthermo.thermo.coherent.CoherentState`.
    order
        Highest cumulant order computed for every counted quantity.
    counting
        The counted quantities.

    Examples
    --------
    >>> import qdthermo as qd
    >>> dev = qd.serial_double_dot(eps_L=0.0, eps_R=0.0, tunnel=0.5, mu={"L": 0.5, "R": -0.5})
    >>> fl = qd.fluctuations(dev, approach="global")
    >>> fl.counting
    ('N_L', 'N_R', 'E_L', 'E_R', 'Q_L', 'Q_R', 'entropy')
    >>> round(float(fl.cumulant(1, "N_L")), 4), round(float(fl.cumulant(2, "N_L")), 4)
    (0.1155, 0.2367)
    """

    result: CoherentState
    order: int
    counting: tuple[str, ...]

    # ----------------------------------------------------------------- hooks
    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return self.result.shape

    def _known(self) -> tuple[str, ...]:
        return coherent_counted_quantities(self.result)

    def _sigma(self) -> Array:
        return self.result.entropy_production

    def _masked(self, x: Array, trailing: int = 0) -> Array:
        valid = np.asarray(self.result.valid).reshape(self.shape + (1,) * trailing)
        return np.where(valid, x, np.nan)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ increments
    def increments(self, name: str) -> Array:
        """``(n_leads, *shape, P, P)`` amount of ``name`` an in-jump of each lead transfers into the system.

        Entry ``(p, q)`` belongs to the jump product on the structural pairs ``p, q``
        (:attr:`~qdthermo.kinetics.coherent.CoherentGenerator.jump_in`); an out-jump transfers minus it.
        """
        self._check_name(name)
        gen, system = self.result.generator, self.result.system
        w = gen.transition_energy
        assert w is not None
        wbar = 0.5 * (w[..., :, None] + w[..., None, :])
        n_leads = len(system.lead_names)
        T = np.moveaxis(np.broadcast_to(system.lead_temperature, self.shape + (n_leads,)), -1, 0)[..., None, None]
        mu = np.moveaxis(np.broadcast_to(system.lead_chemical_potential, self.shape + (n_leads,)), -1, 0)[
            ..., None, None]
        if name == "entropy":
            return -(wbar - mu) / T  # type: ignore[no-any-return]
        kind, lead = name.split("_", 1)
        on = (np.arange(n_leads) == system.lead_names.index(lead)).reshape((n_leads,) + (1,) * (wbar.ndim - 1))
        amount = {"N": np.ones_like(wbar), "E": wbar, "Q": wbar - mu}[kind]
        return on * amount  # type: ignore[no-any-return]

    def _weighted(self, names: Sequence[str], power: int) -> Array:
        """``(*shape, q, k, k)`` jump superoperators weighted by ``d^power`` of each quantity."""
        gen = self.result.generator
        out = []
        for q in names:
            d = self.increments(q) ** power
            out.append(gen.block_jumps(d, (-1.0) ** power * d))
        return np.stack(out, axis=-3)

    @cached_property
    def _state(self) -> tuple[NDArray[np.complex128], NDArray[np.complex128], Array]:
        """``(L, P0, t)``: block Liouvillian, steady state and trace functional."""
        gen = self.result.generator
        return gen.block_generator, gen.to_block(self.result._working_rho), gen.block_trace

    # ------------------------------------------------------------- cumulants
    def _compute(self, names: tuple[str, ...], order: int) -> Array:
        L, P0, t = self._state
        C = counting.trace_cumulants(L, P0, t, lambda m: self._weighted(names, m), order)
        # round-off: the scale of C_k is the absolute moment t^T W_|d|^(k) P0 (one-way transfers)
        gen = self.result.generator
        M = np.stack([np.stack([np.einsum("i,...ij,...j->...", t, gen.block_jumps(a, a), P0)
                                for a in (np.abs(self.increments(q)) ** k for q in names)], axis=-1)
                      for k in range(1, order + 1)], axis=-1)
        C, M = np.real(C), np.real(M)
        return self._masked(np.where(np.abs(C) <= ROUND_OFF * np.abs(M), 0.0, C), 2)

    @cached_property
    def _cumulants(self) -> Array:
        """``(*shape, n_counted, order)`` for the counted quantities."""
        return self._compute(self.counting, self.order)

    def cumulant(self, k: int, name: str) -> Array:
        """``C_k`` of the counted quantity ``name`` [quantity^k x rate], batch-shaped."""
        k = self._check_order(k)
        self._check_name(name)
        if name in self.counting and k <= self.order:
            return self._cumulants[..., self.counting.index(name), k - 1]  # type: ignore[no-any-return]
        return self._compute((name,), k)[..., 0, k - 1]  # type: ignore[no-any-return]

    def covariance_matrix(self, names: Sequence[str] | None = None) -> Array:
        """``(*shape, k, k)`` zero-frequency covariance rates of ``names`` (default: :attr:`counting`)."""
        names = tuple(self.counting if names is None else names)
        for q in names:
            self._check_name(q)
        gen = self.result.generator
        L, P0, t = self._state
        d = [self.increments(q) for q in names]
        W2 = np.stack([np.stack([gen.block_jumps(a * b, a * b) for b in d], axis=-3) for a in d], axis=-4)
        return self._masked(np.real(counting.trace_covariance_matrix(L, P0, t, self._weighted(names, 1), W2)), 2)

    def covariance(self, a: str, b: str) -> Array:
        """Zero-frequency cross-covariance rate ``d^2 lambda / d(i chi_a) d(i chi_b)`` [unit_a unit_b x rate]."""
        return self.covariance_matrix((a, b))[..., 0, 1]  # type: ignore[no-any-return]

    def _spectrum(self, a: str, b: str, omega: NDArray[np.float64]) -> Array:
        gen = self.result.generator
        L, P0, t = self._state
        da, db = self.increments(a), self.increments(b)
        return counting.trace_noise_spectrum(L, P0, t, gen.block_jumps(da, -da), gen.block_jumps(db, -db),
                                             gen.block_jumps(da * db, da * db), omega)

    def _cgf(self, names: list[str], fields: NDArray[Any]) -> NDArray[np.complex128]:
        gen = self.result.generator
        shape = np.broadcast_shapes(self.shape, fields.shape[:-1])
        if shape != self.shape:
            raise ValueError(f"chi: the fields must broadcast to the batch shape {self.shape}, got {fields.shape[:-1]}")
        f = np.broadcast_to(fields, shape + (len(names),)).astype(complex)
        phase = sum(f[..., k][..., None, None] * self.increments(q) for k, q in enumerate(names))
        tilt = gen.block_jumps(np.exp(1j * phase) - 1.0, np.exp(-1j * phase) - 1.0)
        L0 = gen.block_generator
        return counting.dominant_eigenvalue(L0 + tilt, np.sqrt(np.sum(np.abs(L0) ** 2, axis=(-2, -1))))
