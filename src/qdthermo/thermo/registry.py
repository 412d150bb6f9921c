"""The observable registry: every exported quantity registered once, with units.

An observable is a pure function of a solved result (a
:class:`~qdthermo.thermo.result.SteadyState`) returning a batch-first array
of shape ``(*shape, *trailing)``.  It is registered once with its name,
units, long name and trailing dimensions; ``to_xarray()``, sweeps, the
command line and the paper read this one registry::

    import qdthermo as qd

    @qd.observable("twice_particle_current_t", units="rate", long_name="twice J_N of lead t")
    def twice(result):
        return 2 * result.particle_current["t"]

    qd.solve(device).to_xarray()["twice_particle_current_t"]

``units`` is a name of :data:`qdthermo.units.QUANTITIES` (whose units are
then taken) or a units string such as ``"rate"``, ``"energy*rate"``,
``"k_B*rate"`` or ``"1"``.  Trailing dimensions may be ``"state"``,
``"lead"``, ``"channel"``, ``"force"`` or ``"flux"`` (labelled by the result).

Examples
--------
>>> from qdthermo.thermo import OBSERVABLES
>>> "entropy_production" in OBSERVABLES, OBSERVABLES["heat_current"].dims
(True, ('lead',))
>>> OBSERVABLES["heat_current"].units
'energy*rate'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from qdthermo.units import QUANTITIES

__all__ = ["Observable", "OBSERVABLES", "observable", "register", "unregister", "TRAILING_DIMS"]

#: trailing dimensions an observable may have (labelled by the result's coordinates)
TRAILING_DIMS = ("state", "lead", "channel", "force", "flux")


@dataclass(frozen=True)
class Observable:
    """One registered observable.

    Attributes
    ----------
    name
        Variable name in datasets and sweeps.
    function
        ``function(result) -> array`` of shape ``(*result.shape, *trailing)``.
    units, long_name
        Attributes of the exported array.
    dims
        Trailing dimension names (see :data:`TRAILING_DIMS`).
    applies
        ``applies(result) -> bool``: whether the observable exists for this
        result (e.g. regimes need a parallel force pair); default always.
    extra_attrs
        Further attributes (e.g. ``flag_values`` of regime codes).

    Examples
    --------
    >>> from qdthermo.thermo import OBSERVABLES
    >>> obs = OBSERVABLES["entropy_production"]
    >>> obs.name, obs.dims, sorted(obs.attrs)
    ('entropy_production', (), ['long_name', 'units'])
    """

    name: str
    function: Callable[[Any], Any]
    units: str
    long_name: str
    dims: tuple[str, ...] = ()
    applies: Callable[[Any], bool] = field(default=lambda result: True)
    extra_attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def attrs(self) -> dict[str, Any]:
        """``units``, ``long_name`` and the extra attributes."""
        return {"units": self.units, "long_name": self.long_name, **self.extra_attrs}


_REGISTRY: dict[str, Observable] = {}

#: read-only view name -> :class:`Observable`, in registration order
OBSERVABLES: Mapping[str, Observable] = MappingProxyType(_REGISTRY)


def _units(units: str) -> str:
    return QUANTITIES[units][0] if units in QUANTITIES else units


def register(obs: Observable, *, replace: bool = False) -> Observable:
    """Add ``obs`` to the registry (``replace=True`` to redefine an existing name)."""
    if not obs.name.isidentifier():
        raise ValueError(f"observable name must be a Python identifier, got {obs.name!r}")
    bad = [d for d in obs.dims if d not in TRAILING_DIMS]
    if bad:
        raise ValueError(f"observable {obs.name!r}: unknown trailing dims {bad}; allowed: {list(TRAILING_DIMS)}")
    if obs.name in _REGISTRY and not replace and _REGISTRY[obs.name].function is not obs.function:
        raise ValueError(f"an observable named {obs.name!r} is already registered (pass replace=True to redefine)")
    _REGISTRY[obs.name] = obs
    return obs


def unregister(name: str) -> None:
    """Remove the observable ``name`` (``KeyError`` if there is none)."""
    del _REGISTRY[name]


def observable(name: str, *, units: str, long_name: str, dims: tuple[str, ...] = (),
               applies: Callable[[Any], bool] | None = None, replace: bool = False,
               **extra_attrs: Any) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Decorator registering ``function(result) -> array`` as the observable ``name``.

    Parameters
    ----------
    name
        Variable name (a Python identifier).
    units
        A name of :data:`qdthermo.units.QUANTITIES` or a units string.
    long_name
        Human-readable description.
    dims
        Trailing dimensions beyond the batch shape (see :data:`TRAILING_DIMS`).
    applies
        Optional predicate on the result; the observable is exported only where it holds.
    replace
        Allow redefining an existing name.
    **extra_attrs
        Further attributes of the exported array.

    Returns
    -------
    callable
        The function itself, unchanged.

    Raises
    ------
    ValueError
        If ``name`` is not a Python identifier, ``dims`` names an unknown
        trailing dimension, or ``name`` is taken and ``replace`` is False.

    Examples
    --------
    The mean occupation of a single dot as a new observable, exported with
    its attributes (and in every sweep):

    >>> import qdthermo as qd
    >>> @qd.observable("dot_filling", units="1", long_name="mean occupation of the dot")
    ... def dot_filling(result):
    ...     return result.populations[..., 1]
    >>> res = qd.solve(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}))
    >>> round(float(res.observable("dot_filling")), 4)
    0.4077
    >>> res.to_xarray()["dot_filling"].attrs
    {'units': '1', 'long_name': 'mean occupation of the dot'}
    >>> from qdthermo.thermo.registry import unregister
    >>> unregister("dot_filling")
    """
    def deco(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        register(Observable(name, function, _units(units), long_name, tuple(dims),
                            applies if applies is not None else (lambda result: True), dict(extra_attrs)),
                 replace=replace)
        return function
    return deco
