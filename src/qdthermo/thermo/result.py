"""The frozen result of a steady-state solve.

:func:`qdthermo.solve` turns a :class:`~qdthermo.model.device.Device` into a
:class:`SteadyState`: a read-only object whose properties are computed on
first access and cached.  It never writes back into the device.

Public contract (names are stable):

``populations``
    ``(*shape, n_states)`` steady-state probabilities, states labelled by
    ``state_labels`` (occupations of the dots in device order, e.g. "10" =
    dot L occupied, dot R empty).
``particle_current[lead]``, ``energy_current[lead]``, ``heat_current[lead]``
    ``(*shape)`` arrays, [rate], [energy x rate], [energy x rate], positive
    from the lead into the system.
``channel_flux``
    ``(*shape, n_channels)`` net flux ``k^+ P_i - k^- P_j`` of each channel,
    labelled by ``channel_labels`` ("lead:i->j").
``residual``
    ``(*shape)`` relative residual of the steady state (route-independent measure).
``valid``
    ``(*shape)`` bool: False at points without a unique steady state, where
    every observable is NaN (regime codes :data:`~qdthermo.thermo.regimes.INVALID_REGIME` = -1).
``observable(name)``
    Any registered observable (:mod:`qdthermo.thermo.registry`).
``to_xarray()``
    An :class:`xarray.Dataset` of every registered observable and ``valid``,
    with ``units`` and ``long_name`` attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qdthermo._reduce import max_last, min_last
from qdthermo.kinetics.generator import PauliGenerator
from qdthermo.kinetics.rates import Rates
from qdthermo.model.device import Device
from qdthermo.model.system import System
from qdthermo.thermo.currents import one_way_fluxes
from qdthermo.thermo.cycles import Cycles, cycle_basis, cycles
from qdthermo.thermo.forces import ForceBasis, conjugate_fluxes, force_basis, gradients, is_energy, macroscopic_forces
from qdthermo.thermo.performance import Performance, current_resolution, performance
from qdthermo.thermo.regimes import Tolerance, classify
from qdthermo.thermo.registry import OBSERVABLES
from qdthermo.thermo.transport import Transport, _ro, per_lead
from qdthermo.units import QUANTITIES, attrs

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SteadyState", "per_lead"]

_DEFAULT_TOL = 1e-9  # the default force_tol = flux_tol of classify (regimes.Tolerance), of `regime` too

Array = NDArray[np.float64]


def _labelled(name: str, value: Any, dims: tuple[str, ...]) -> Any:
    """A coordinate for ``to_xarray``: bare 1-D values of a batch dimension get units and long name."""
    if name in dims and name in QUANTITIES and isinstance(value, (np.ndarray, list, tuple, range)):
        return (name, np.asarray(value), attrs(name))
    return value


@dataclass(frozen=True, eq=False)
class SteadyState(Transport):
    """Solved steady state of a device (read-only; see the module docstring).

    Attributes
    ----------
    device
        The description that was solved.
    system
        Its many-body states and channels.
    generator
        The Pauli generator (network structure and rates).
    populations
        ``(*shape, n_states)`` steady-state probabilities (NaN where not ``valid``).
    valid
        ``(*shape)`` bool: the point has a unique steady state.
    route
        The steady-state route that computed the populations.
    precomputed
        Arrays a fused kernel computed with the populations (:mod:`qdthermo.thermo.fused`),
        by cached-property name; they are served as they are, the rest is computed on first access.

    Examples
    --------
    >>> import qdthermo as qd
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> res.lead_names, res.state_labels, res.forces
    (('L', 'R'), ('0', '1'), {'F_E': 0.5, 'F_N': 0.0})
    >>> J_Q = res.heat_current
    >>> bool(abs(J_Q["L"] + J_Q["R"]) < 1e-12)          # no work: heat is conserved
    True
    >>> round(float(res.entropy_production), 6), round(float(J_Q["L"] * (1 / 1.0 - 1 / 2.0)), 6)
    (0.007535, 0.007535)
    """

    device: Device
    system: System
    generator: PauliGenerator
    populations: Array
    valid: NDArray[np.bool_]
    route: str = "linear"
    precomputed: Mapping[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.precomputed:  # seed the cached properties (a fused kernel computed them in one pass)
            self.__dict__.update(self.precomputed)

    @property
    def rates(self) -> Rates:
        """Channel rates :class:`~qdthermo.kinetics.rates.Rates` [rate unit]."""
        return self.generator.rates

    @cached_property
    def residual(self) -> Array:
        """``(*shape)`` relative residual of the steady state, whatever the route (computed on first access).

        The larger of the leftover net probability flux ``||W P||_1`` relative
        to the total one-way flux, and per dot the net particle flux into the
        dot relative to the one-way fluxes through it
        (:func:`~qdthermo.kinetics.sparse.balance_residual`); round-off level
        (~1e-16) for the dense routes, below
        :data:`~qdthermo.kinetics.sparse.RESIDUAL_TOL` for the sparse ones.
        NaN where not ``valid``.
        """
        return self.generator.residual(self.populations)

    @property
    def rate_matrix(self) -> Array:
        """``(*shape, n, n)`` Pauli rate matrix W [rate unit] (built on first access)."""
        return self.generator.matrix

    def observable(self, name: str) -> NDArray[Any] | Mapping[str, NDArray[Any]]:
        """The registered observable ``name`` (see :mod:`qdthermo.thermo.registry`), masked where not valid."""
        if name not in OBSERVABLES:
            raise ValueError(f"unknown observable {name!r}; registered: {sorted(OBSERVABLES)}")
        cache = self.__dict__.setdefault("_observable_cache", {})
        if name not in cache:
            obs = OBSERVABLES[name]
            if not obs.applies(self):
                raise ValueError(f"observable {name!r} does not apply to device {self.system.name!r}")
            value = obs.function(self)
            if isinstance(value, Mapping):
                cache[name] = MappingProxyType({k: self._masked(v, len(obs.dims)) for k, v in value.items()})
            else:
                cache[name] = self._masked(value, len(obs.dims))
        return cache[name]  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- basics
    @cached_property
    def force_basis(self) -> ForceBasis:
        """The force-flux basis (reference lead: ``device.reference_lead``)."""
        return force_basis(self.system)

    @cached_property
    def force_array(self) -> Array:
        """``(*shape, n_forces)`` macroscopic forces, ordered as ``force_basis.force_names``."""
        return _ro(macroscopic_forces(self.force_basis, self.system.lead_temperature,
                                      self.system.lead_chemical_potential))

    @cached_property
    def flux_array(self) -> Array:
        """``(*shape, n_forces)`` fluxes conjugate to :attr:`force_array`."""
        return self._masked(conjugate_fluxes(self.force_basis, self.particle_current_array,
                                             self.energy_current_array), 1)

    @cached_property
    def forces(self) -> Mapping[str, Array]:
        """Macroscopic forces by name: ``F_E``, ``F_R``, ``F_N`` for the paper's device.

        Energy forces ``1/T_ref - 1/T_nu`` [1/energy]; particle forces
        ``mu_nu/T_nu - mu_ref/T_ref`` [dimensionless].
        """
        return per_lead(self.force_basis.force_names, self.force_array)

    @cached_property
    def fluxes(self) -> Mapping[str, Array]:
        """Fluxes conjugate to :attr:`forces`: ``J_E`` (= J_E^t), ``J_R`` (= J_E^r), ``J_N`` (= J_N^t)."""
        return per_lead(self.force_basis.flux_names, self.flux_array)

    @cached_property
    def cycles(self) -> Cycles:
        """Schnakenberg fundamental cycles: fluxes, affinities, cycle -> force map."""
        cb = cycle_basis(self.system, self.force_basis)
        return cycles(self.system, self.rates, self._flux, self.force_basis, cb)

    @cached_property
    def microscopic_forces(self) -> Mapping[str, Array]:
        """Forces recovered from the rates via the cycle affinities (NaN where not determined)."""
        return per_lead(self.force_basis.force_names, self._masked(self.cycles.microscopic_forces, 1))

    def _pair(self) -> tuple[int, int]:
        pair = self.system.parallel_pair
        if pair is None:
            raise ValueError(
                f"device {self.system.name!r} declares no parallel force pair (Device.parallel_pair); "
                f"forces are {list(self.force_basis.force_names)}"
            )
        return self.force_basis.index(pair[0]), self.force_basis.index(pair[1])

    def _zero_masks(self, values: Array, tol: Tolerance, gradient: bool) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        s = self.system
        T_min = min_last(s.lead_temperature)
        T_max = max_last(s.lead_temperature)
        mu_max = max_last(np.abs(s.lead_chemical_potential))
        energy = is_energy(self.force_basis)
        if gradient:
            f_scale = np.where(energy, T_max[..., None], (T_max + mu_max)[..., None])
        else:
            f_scale = np.where(energy, 1.0 / T_min[..., None], (1.0 + mu_max / T_min)[..., None])
        g_max = max_last(s.channel_coupling)
        e_scale = np.maximum(max_last(np.abs(s.channel_energy)), T_max)
        j_scale = np.where(energy, (g_max * e_scale)[..., None], g_max[..., None])
        return np.abs(values) <= tol.force_tol * f_scale, np.abs(self.flux_array) <= tol.flux_tol * j_scale

    def classify(self, *, force_tol: float = _DEFAULT_TOL, flux_tol: float = _DEFAULT_TOL,
                 by: str = "forces") -> Mapping[str, NDArray[np.int8]]:
        """Regimes of the parallel pair's fluxes (see :mod:`qdthermo.thermo.regimes`).

        Parameters
        ----------
        force_tol, flux_tol
            Relative tolerances for "zero" (:class:`~qdthermo.thermo.regimes.Tolerance`).
        by
            ``"forces"`` (thermodynamic forces, the correct criterion) or
            ``"gradients"`` (Delta T, Delta mu: the criterion criticised in the
            paper's Sec. VI, which can call a cross-effect an ICC).

        Returns
        -------
        Mapping
            Flux name (``"J_E"``, ``"J_N"``) -> int8 array of :class:`Regime` codes.
        """
        if by not in ("forces", "gradients"):
            raise ValueError(f"by must be 'forces' or 'gradients', got {by!r}")
        if by == "forces" and force_tol == flux_tol == _DEFAULT_TOL and "regime" in self.__dict__:
            return self.__dict__["regime"]  # classified already (a fused kernel's, or an earlier call's)
        tol = Tolerance(force_tol, flux_tol)
        a, b = self._pair()
        s = self.system
        values = self.force_array if by == "forces" else gradients(
            self.force_basis, s.lead_temperature, s.lead_chemical_potential)
        f_zero, j_zero = self._zero_masks(values, tol, gradient=(by == "gradients"))
        out: dict[str, NDArray[np.int8]] = {}
        flux = np.nan_to_num(self.flux_array)  # failed points (NaN) are masked below
        for i, j in ((a, b), (b, a)):
            out[self.force_basis.flux_names[i]] = self._masked(classify(
                flux[..., i], values[..., i], values[..., j],
                J_zero=j_zero[..., i], F_i_zero=f_zero[..., i], F_j_zero=f_zero[..., j]))
        return MappingProxyType(out)

    @cached_property
    def regime(self) -> Mapping[str, NDArray[np.int8]]:
        """Regime of each flux of the parallel pair, ``{"J_E": ..., "J_N": ...}``.

        int8 arrays of :class:`~qdthermo.thermo.regimes.Regime` codes, classified
        against the forces with the default tolerances (see :meth:`classify`).
        """
        return self.classify()

    @cached_property
    def regime_by_gradients(self) -> Mapping[str, NDArray[np.int8]]:
        """As :attr:`regime` but classified by the gradients (Delta T, Delta mu) instead of forces."""
        return self.classify(by="gradients")

    @cached_property
    def performance(self) -> Performance:
        """Engine/refrigerator figures of merit (:mod:`qdthermo.thermo.performance`)."""
        s = self.system
        perf = performance(np.nan_to_num(self.particle_current_array), np.nan_to_num(self.heat_current_array),
                           s.lead_temperature, s.lead_chemical_potential, atol=self.current_resolution)
        if self._all_valid:
            return perf
        return Performance(**{f.name: self._masked(getattr(perf, f.name)) for f in fields(Performance)})

    @cached_property
    def current_resolution(self) -> Array:
        """``(*shape)`` smallest energy-like current [energy x rate] that double precision resolves here.

        Efficiency and COP are NaN where the power or heats are below it
        (:func:`~qdthermo.thermo.performance.current_resolution`).
        """
        s, k, P = self.system, self.rates, self._P
        one_way, backward = one_way_fluxes(s, k, P)
        one_way += backward
        return current_resolution(one_way, s.channel_energy, s.channel_chemical_potential,
                                  s.channel_temperature, k.plus + k.minus)

    # ----------------------------------------------------------------- export
    def _exported(self) -> dict[str, tuple[tuple[str, ...], NDArray[Any], dict[str, Any]]]:
        """name -> (trailing dims, array, attrs) of every registered observable that applies."""
        out: dict[str, tuple[tuple[str, ...], NDArray[Any], dict[str, Any]]] = {}
        for name, obs in OBSERVABLES.items():
            if not obs.applies(self):
                continue
            value = self.observable(name)
            if isinstance(value, Mapping):
                for key, v in value.items():
                    out[f"{name}_{key}"] = (obs.dims, v, {**obs.attrs, "long_name": f"{obs.long_name} {key}"})
            else:
                out[name] = (obs.dims, value, obs.attrs)
        return out

    def to_xarray(
        self,
        dims: Sequence[str] | None = None,
        coords: Mapping[str, Any] | None = None,
    ) -> "xr.Dataset":
        """Every registered observable, and ``valid``, as a labelled :class:`xarray.Dataset`.

        Parameters
        ----------
        dims
            Names of the batch dimensions (default ``dim_0, dim_1, ...``).
        coords
            Optional coordinates for the batch dimensions; a 1-D coordinate
            named after a known quantity (``F_E``, ``eps_L``, ``T_ref``, ...,
            see :data:`qdthermo.units.QUANTITIES`) gets its ``units`` and
            ``long_name``.

        Returns
        -------
        xarray.Dataset
            Variables carry ``units`` and ``long_name`` attributes; the
            ``state``, ``lead``, ``channel``, ``force`` and ``flux`` dimensions are labelled.
        """
        import xarray as xr

        data_vars, labels, attrs = self._export_parts(dims)
        ds = xr.Dataset(
            data_vars,
            coords={**labels, **{name: _labelled(name, value, data_vars["valid"][0])
                                 for name, value in (coords or {}).items()}},
            attrs=attrs,
        )
        return ds

    def _export_parts(self, dims: Sequence[str] | None = None) -> tuple[
            dict[str, tuple[tuple[str, ...], NDArray[Any], dict[str, Any]]],
            dict[str, tuple[str, list[Any], dict[str, Any]]], dict[str, Any]]:
        """What :meth:`to_xarray` holds, as plain NumPy (no xarray import): variables, labels, attributes.

        ``variables``: name -> (dims, array broadcast to the batch shape, attrs), in the order of
        :meth:`to_xarray`; ``labels``: dim -> (dim, labels, attrs) of ``state``, ``lead``, ``channel``,
        ``force`` and ``flux``.  Used by :func:`qdthermo.sweep` to export chunks without xarray.
        """
        shape = self.shape
        if dims is None:
            dims = tuple(f"dim_{k}" for k in range(len(shape)))
        dims = tuple(dims)
        if len(dims) != len(shape):
            raise ValueError(f"dims must name the {len(shape)} batch dimension(s) of shape {shape}, got {dims}")
        data_vars = {}
        for name, (extra, value, at) in self._exported().items():
            value = np.asarray(value)
            full = shape + tuple(value.shape[value.ndim - len(extra):]) if extra else shape
            data_vars[name] = (dims + extra, np.broadcast_to(value, full), at)
        data_vars["valid"] = (dims, np.broadcast_to(self.valid, shape), {
            "units": "1", "long_name": "the point has a unique steady state (observables NaN where False)"})
        labels = {
            "state": ("state", list(self.state_labels), {"long_name": "many-body state (dot occupations)"}),
            "lead": ("lead", list(self.lead_names), {"long_name": "lead"}),
            "channel": ("channel", list(self.channel_labels), {"long_name": "tunnelling channel lead:i->j"}),
            "force": ("force", list(self.force_basis.force_names), {"long_name": "thermodynamic force"}),
            "flux": ("flux", list(self.force_basis.flux_names), {"long_name": "conjugate flux"}),
        }
        attrs = {"device": self.system.name, "dots": ",".join(self.system.dot_names),
                 "steady_state_route": self.route,
                 "sign_convention": "currents positive from lead into system",
                 "units_convention": "k_B = hbar = e = 1"}
        return data_vars, labels, attrs
