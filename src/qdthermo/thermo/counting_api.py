"""The public API of counting statistics, shared by the Pauli and the density-matrix routes.

:class:`qdthermo.thermo.counting_statistics.Fluctuations` (rate equation) and
:class:`qdthermo.thermo.coherent_counting.CoherentFluctuations` (Lindblad approaches) derive from
:class:`CountingAPI`: the same method names and conventions (``C_k = d^k lambda / d(i chi)^k``, no
factor 2; Fano and TUR NaN where ``C_1 = 0``; round-off cleaned with :data:`ROUND_OFF`); each route
only supplies the engine hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["CountingAPI", "ROUND_OFF"]

Array = NDArray[np.float64]

#: a cumulant below this times its absolute-moment scale is round-off, set to 0 (see ``Fluctuations._clean``)
ROUND_OFF = 1e-13


def _ratio(num: Array, den: Array) -> Array:
    """``num / den``, NaN where ``den`` is 0 (an undefined Fano factor or TUR ratio)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.divide(num, den))
    np.copyto(out, np.nan, where=den == 0)  # in place: no third batch-sized array
    return out


class _LazyMap(Mapping[str, Array]):
    """Read-only mapping whose values are computed on first access and kept (read-only arrays)."""

    def __init__(self, keys: tuple[str, ...], compute: Callable[[str], Array]) -> None:
        self._keys = keys
        self._compute = compute
        self._values: dict[str, Array] = {}

    def __getitem__(self, key: str) -> Array:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._values:
            value = np.asarray(self._compute(key))
            value.setflags(write=False)
            self._values[key] = value
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._keys)})"


def _units(name: str) -> str:
    if name == "entropy":
        return "k_B"
    if name.startswith("N_"):
        return "1"
    return "energy"


class CountingAPI:
    """The public API shared by the Pauli and the density-matrix counting statistics.

    Subclasses provide ``order``, ``counting``, ``shape``, ``_cumulants`` (``(*shape, q, order)``),
    ``cumulant``, ``covariance_matrix``, ``_spectrum``, ``_cgf``, ``_sigma`` and ``_masked``.
    """

    order: int
    counting: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        raise NotImplementedError

    @property
    def _cumulants(self) -> Array:
        raise NotImplementedError

    def cumulant(self, k: int, name: str) -> Array:
        """``C_k`` of the counted quantity ``name`` [quantity^k x rate], batch-shaped."""
        raise NotImplementedError

    def _masked(self, x: Array, trailing: int = 0) -> Array:
        raise NotImplementedError

    def _sigma(self) -> Array:
        raise NotImplementedError

    def _known(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _spectrum(self, a: str, b: str, omega: NDArray[np.float64]) -> Array:
        raise NotImplementedError

    def _cgf(self, names: list[str], fields: NDArray[Any]) -> NDArray[np.complex128]:
        raise NotImplementedError

    @staticmethod
    def _check_order(k: Any) -> int:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"cumulant order k must be an integer >= 1, got {k!r}")
        return int(k)

    def _check_name(self, name: str) -> None:
        known = self._known()
        if name not in known:
            raise ValueError(f"unknown counted quantity {name!r}; allowed: {list(known)}")

    @cached_property
    def fano(self) -> Mapping[str, Array]:
        """Fano factor ``C_2 / |C_1|`` of every counted quantity [quantity]; NaN where ``C_1`` is 0.

        Each ratio is computed on first access (a read-only mapping).
        """
        self._need(2)
        return _LazyMap(self.counting, lambda q: _ratio(self.cumulant(2, q), np.abs(self.cumulant(1, q))))

    @cached_property
    def tur(self) -> Mapping[str, Array]:
        """TUR ratio ``Sigma_dot C_2 / C_1^2`` of every counted current but ``entropy`` (>= 2); NaN where C_1 = 0.

        Each ratio is computed on first access (a read-only mapping).
        """
        self._need(2)
        return _LazyMap(tuple(q for q in self.counting if q != "entropy"),
                        lambda q: _ratio(self._sigma() * self.cumulant(2, q), self.cumulant(1, q) ** 2))

    def _need(self, k: int) -> None:
        if self.order < k:
            raise ValueError(f"this needs cumulants of order {k}; computed up to order={self.order}")

    def noise_spectrum(self, name: str, omega: ArrayLike, other: str | None = None) -> Array:
        """Symmetrised finite-frequency noise ``S(omega)`` of ``name`` (and ``other``) [unit^2 x rate].

        ``S(0) = C_2`` (no factor 2); ``S(omega -> inf)`` is the Schottky term.  Result shape
        ``(*shape, *omega.shape)``; ``omega`` in the rate unit (angular frequency).
        """
        self._check_name(name)
        if other is not None:
            self._check_name(other)
        w = np.asarray(omega)
        if np.iscomplexobj(w) or w.dtype.kind not in "biuf" or not np.all(np.isfinite(w)):
            raise ValueError(f"omega must be real and finite, got {omega!r}")
        S = self._spectrum(name, other if other is not None else name, w.astype(float))
        return self._masked(S, w.ndim)

    def cgf(self, chi: Mapping[str, ArrayLike]) -> NDArray[np.complex128]:
        """Scaled cumulant generating function ``lambda(chi)`` [rate] for counting fields by name.

        ``chi`` maps counted names to fields (batch-broadcastable, complex allowed; ``chi = -1j * s``
        gives the real exponential tilt ``exp(s d)``).
        """
        if not chi:
            raise ValueError("chi must name at least one counted quantity")
        names = list(chi)
        for q in names:
            self._check_name(q)
        fields = np.stack(np.broadcast_arrays(*(np.asarray(chi[q]) for q in names)), axis=-1)
        lam: NDArray[np.complex128] = np.asarray(self._masked(self._cgf(names, fields)))  # type: ignore[arg-type]
        return lam  # NaN at invalid points, as every observable

    # ----------------------------------------------------------------- export
    def to_xarray(self, dims: Sequence[str] | None = None) -> "xr.Dataset":
        """Cumulants ``C_1 .. C_order``, Fano factors and TUR ratios as a labelled dataset."""
        import xarray as xr

        shape = self.shape
        dims = tuple(dims) if dims is not None else tuple(f"dim_{k}" for k in range(len(shape)))
        data: dict[str, Any] = {}
        for k in range(1, self.order + 1):
            data[f"C{k}"] = (dims + ("counted",), self._cumulants[..., k - 1], {
                "units": f"quantity^{k}*rate", "long_name": f"scaled cumulant C_{k} = d^{k} lambda/d(i chi)^{k}"})
        coords = {"counted": ("counted", list(self.counting), {"long_name": "counted quantity (lead -> system)"}),
                  "counted_units": ("counted", [_units(q) for q in self.counting])}
        ds = xr.Dataset(data, coords=coords, attrs={"convention": "C_k = d^k lambda/d(i chi)^k, no factor 2"})
        if self.order >= 2:
            ds["fano"] = (dims + ("counted",), np.stack([self.fano[q] for q in self.counting], axis=-1),
                          {"units": "quantity", "long_name": "Fano factor C2/|C1|"})
            tur = [self.tur.get(q, np.full(shape, np.nan)) for q in self.counting]
            ds["tur"] = (dims + ("counted",), np.stack(tur, axis=-1),
                         {"units": "k_B", "long_name": "TUR ratio Sigma_dot C2/C1^2 (>= 2)"})
        return ds
