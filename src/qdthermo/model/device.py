"""Device descriptions: dots, leads and interdot interactions.

A :class:`Device` is an immutable *description*.  It is turned into the
many-body :class:`~qdthermo.model.system.System` (states, energies,
tunnelling channels) by :meth:`Device.finalized`, and solved by
:func:`qdthermo.solve`.  Nothing downstream ever writes back into it.

Every numeric parameter may be a scalar or a NumPy array; arrays broadcast
against each other (NumPy rules) and every result has the broadcast shape.

Units: energies, temperatures (k_B T) and chemical potentials in one energy
unit; tunnel couplings in the rate unit (see :mod:`qdthermo.units`).

Examples
--------
A :data:`Coupling` may be a number, a mapping by transition, or an
energy-dependent ``Gamma(w)``; a Gaussian filter evaluated at the one
transition energy w = 0.5 equals the constant coupling exp(-0.25):

>>> import numpy as np, qdthermo as qd
>>> filtered = qd.Device(dots=(qd.Dot("d", 0.5),),
...                      leads=(qd.Lead("L", "d", 2.0, coupling=lambda w: np.exp(-w**2)),
...                             qd.Lead("R", "d", 1.0, coupling=np.exp(-0.25))))
>>> constant = qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}, gamma=np.exp(-0.25))
>>> bool(np.isclose(qd.solve(filtered).particle_current["L"], qd.solve(constant).particle_current["L"]))
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo._validate import as_real_array, check_nonnegative, check_positive
from qdthermo.model.system import System

__all__ = ["Dot", "Lead", "Interaction", "Tunnel", "Device", "Coupling", "MAX_DOTS", "spin_z"]

#: the most dots a device may have (2^24 many-body states); memory is checked when it is finalized
MAX_DOTS = 24

#: A tunnel coupling: one value (scalar or array) for every transition of the
#: lead, a mapping from transition label (``"00->10"`` or the 1-based state
#: numbers ``"1->2"``) to value, or a callable ``Gamma(w)`` of the transition
#: energy ``w`` (energy-dependent tunnelling).
Coupling = Union[ArrayLike, Mapping[str, ArrayLike], Callable[[NDArray[np.float64]], ArrayLike]]


def spin_z(species: str) -> float:
    """S^z of one electron of the given species: +1/2 (``"up"``), -1/2 (``"down"``), else 0."""
    return {"up": 0.5, "down": -0.5}.get(species, 0.0)


def _frozen(arr: NDArray[np.float64]) -> NDArray[np.float64]:
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Dot:
    """A single-level quantum dot holding 0 or 1 electron.

    Parameters
    ----------
    name
        Unique name of the dot (for example ``"L"``).
    level
        Single-particle level energy eps [energy unit]; scalar or array.
    species
        Particle species held by the dot: ``"up"`` or ``"down"`` (spin, enters
        the interdot exchange), or any other label for spinless particles.

    Raises
    ------
    ValueError
        If ``level`` is not real.

    Examples
    --------
    >>> from qdthermo.model.device import Dot
    >>> d = Dot("L", level=[0.0, 0.5, 1.0], species="up")
    >>> d.level.shape, d.spin_z
    ((3,), 0.5)
    """

    name: str
    level: ArrayLike
    species: str = "down"

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _frozen(as_real_array(f"level of dot {self.name!r}", self.level)))

    @property
    def spin_z(self) -> float:
        """S^z of the dot's electron (see :func:`spin_z`)."""
        return spin_z(self.species)


@dataclass(frozen=True)
class Lead:
    """A fermionic reservoir tunnel-coupled to one dot.

    Parameters
    ----------
    name
        Unique name of the lead (for example ``"t"``).
    dot
        Name of the dot it is attached to.
    temperature
        k_B T of the lead [energy unit]; must be > 0.
    chemical_potential
        mu of the lead [energy unit].
    coupling
        Tunnel coupling Gamma [rate unit], >= 0: one value for all transitions,
        a mapping transition label -> value, or a callable ``Gamma(w)``
        (see :data:`Coupling`).

    Raises
    ------
    ValueError
        If the temperature is not > 0, a value is not real or a coupling is
        negative.

    Examples
    --------
    >>> from qdthermo.model.device import Lead
    >>> lead = Lead("t", dot="L", temperature=2.0, chemical_potential=0.2, coupling=0.5)
    >>> float(lead.temperature), float(lead.chemical_potential), float(lead.coupling)
    (2.0, 0.2, 0.5)
    >>> Lead("t", dot="L", temperature=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: T['t'] (temperature of lead 't') ...
    """

    name: str
    dot: str
    temperature: ArrayLike
    chemical_potential: ArrayLike = 0.0
    coupling: Coupling = 1.0

    def __post_init__(self) -> None:
        T = as_real_array(f"T[{self.name!r}] (temperature of lead {self.name!r})", self.temperature)
        check_positive(f"T[{self.name!r}] (temperature of lead {self.name!r})", T)
        mu = as_real_array(f"mu[{self.name!r}] (chemical potential of lead {self.name!r})",
                           self.chemical_potential)
        object.__setattr__(self, "temperature", _frozen(T))
        object.__setattr__(self, "chemical_potential", _frozen(mu))
        c = self.coupling
        if callable(c):
            return
        if isinstance(c, Mapping):
            checked = {}
            for key, value in c.items():
                pname = f"gamma[{self.name!r}, {key!r}] (tunnel coupling)"
                arr = as_real_array(pname, value)
                check_nonnegative(pname, arr)
                checked[str(key)] = _frozen(arr)
            object.__setattr__(self, "coupling", checked)
        else:
            pname = f"gamma[{self.name!r}] (tunnel coupling of lead {self.name!r})"
            arr = as_real_array(pname, c)
            check_nonnegative(pname, arr)
            object.__setattr__(self, "coupling", _frozen(arr))


@dataclass(frozen=True)
class Interaction:
    """Interdot interaction ``U n_a n_b + J S^z_a S^z_b`` between two dots.

    Parameters
    ----------
    dots
        The two dot names.
    coulomb
        Capacitive (Coulomb) interaction U [energy unit], >= 0.
    exchange
        Spin exchange J [energy unit], >= 0.  With S^z = +-1/2 n for spin
        up/down dots, a down-up pair contributes ``-J/4 n_a n_b``, so that
        U_eff = U - J/4 (PHYSICS.md section 1).

    Raises
    ------
    ValueError
        If U or J is negative or not real.

    Examples
    --------
    >>> from qdthermo.model.device import Interaction
    >>> i = Interaction(("L", "R"), coulomb=0.5, exchange=2.0)
    >>> i.dots, float(i.coulomb - i.exchange / 4)        # U_eff for a down-up pair
    (('L', 'R'), 0.0)
    """

    dots: tuple[str, str]
    coulomb: ArrayLike = 0.0
    exchange: ArrayLike = 0.0

    def __post_init__(self) -> None:
        a, b = self.dots
        U = as_real_array(f"U (Coulomb interaction {a}-{b})", self.coulomb)
        check_nonnegative(f"U (Coulomb interaction {a}-{b})", U)
        J = as_real_array(f"J (spin exchange {a}-{b})", self.exchange)
        check_nonnegative(f"J (spin exchange {a}-{b})", J)
        object.__setattr__(self, "dots", (str(a), str(b)))
        object.__setattr__(self, "coulomb", _frozen(U))
        object.__setattr__(self, "exchange", _frozen(J))


@dataclass(frozen=True)
class Tunnel:
    """Coherent interdot hopping ``t (c_a^+ c_b + c_b^+ c_a)`` between two dots.

    Spin-conserving: both dots must hold the same species (checked by the
    device).  The many-body Hamiltonian with fermionic signs is built by
    :func:`qdthermo.kinetics.hamiltonian.hamiltonian`; devices with tunnels
    are solved with ``qd.solve(device, approach="global" | "local")``.

    Parameters
    ----------
    dots
        The two dot names.
    amplitude
        Real hopping amplitude t [energy unit]; scalar or array (broadcasts
        with the other parameters).

    Raises
    ------
    ValueError
        If the amplitude is not real.

    Examples
    --------
    >>> from qdthermo.model.device import Tunnel
    >>> Tunnel(("L", "R"), amplitude=0.25)
    Tunnel(dots=('L', 'R'), amplitude=array(0.25))
    """

    dots: tuple[str, str]
    amplitude: ArrayLike = 0.0

    def __post_init__(self) -> None:
        a, b = self.dots
        t = as_real_array(f"t (tunnel amplitude {a}-{b})", self.amplitude)
        object.__setattr__(self, "dots", (str(a), str(b)))
        object.__setattr__(self, "amplitude", _frozen(t))


@dataclass(frozen=True)
class Device:
    """A network of single-level dots with leads: the immutable description.

    Parameters
    ----------
    dots
        The dots. State labels list their occupations in this order.
    leads
        The leads, each attached to one dot.
    interactions
        Pairwise interdot interactions (no particle hopping between dots).
    reference_lead
        Lead used as reference when forces and fluxes are built from the
        conservation laws (default: the last lead).
    name
        A name for the device (for reports).
    aliases
        Optional names for forces/fluxes, generic key -> alias, e.g.
        ``{"E:t": "E", "N:t": "N"}`` so that ``F_E`` is the force of
        generic key ``E:t`` (presets set these).
    parallel_pair
        Two alias names ``(energy, particle)`` of the mutually parallel
        force pair used to classify the response (regimes), or None.
    parameters
        The preset arguments this device was built from (for reports).
    tunnels
        Coherent interdot hopping (:class:`Tunnel`); a device with tunnels
        needs a density-matrix approach (``"global"`` or ``"local"``).

    Raises
    ------
    ValueError
        If names repeat, a lead or interaction names an unknown dot, a
        tunnel joins dots of different species, or the parameters do not
        broadcast.

    Examples
    --------
    A dot between a hot and a cold lead, built by hand (what
    :func:`~qdthermo.model.presets.single_dot` does):

    >>> import qdthermo as qd
    >>> dev = qd.Device(dots=(qd.Dot("d", level=0.5),),
    ...                 leads=(qd.Lead("hot", "d", temperature=2.0), qd.Lead("cold", "d", temperature=1.0)))
    >>> dev.dot_names, dev.lead_names, dev.shape
    (('d',), ('hot', 'cold'), ())
    >>> round(float(qd.solve(dev).heat_current["hot"]), 4)
    0.0151
    """

    dots: tuple[Dot, ...]
    leads: tuple[Lead, ...]
    interactions: tuple[Interaction, ...] = ()
    reference_lead: str | None = None
    name: str = "device"
    aliases: Mapping[str, str] = field(default_factory=dict)
    parallel_pair: tuple[str, str] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tunnels: tuple[Tunnel, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dots", tuple(self.dots))
        object.__setattr__(self, "leads", tuple(self.leads))
        object.__setattr__(self, "interactions", tuple(self.interactions))
        object.__setattr__(self, "tunnels", tuple(self.tunnels))
        if not self.dots:
            raise ValueError("a device needs at least one dot")
        if len(self.dots) > MAX_DOTS:
            raise ValueError(f"number of dots must be <= {MAX_DOTS} (2^n many-body states), got {len(self.dots)}")
        dot_names = [d.name for d in self.dots]
        if len(set(dot_names)) != len(dot_names):
            raise ValueError(f"dot names must be unique, got {dot_names}")
        lead_names = [lead.name for lead in self.leads]
        if len(set(lead_names)) != len(lead_names):
            raise ValueError(f"lead names must be unique, got {lead_names}")
        if not self.leads:
            raise ValueError("a device needs at least one lead")
        for lead in self.leads:
            if lead.dot not in dot_names:
                raise ValueError(
                    f"lead {lead.name!r} is attached to unknown dot {lead.dot!r}; "
                    f"allowed dots: {dot_names}"
                )
        for inter in self.interactions:
            for d in inter.dots:
                if d not in dot_names:
                    raise ValueError(f"interaction names unknown dot {d!r}; allowed dots: {dot_names}")
            if inter.dots[0] == inter.dots[1]:
                raise ValueError(f"an interaction needs two different dots, got {inter.dots}")
        species = {d.name: d.species for d in self.dots}
        for tun in self.tunnels:
            if not isinstance(tun, Tunnel):
                raise ValueError(f"tunnels must be qd.Tunnel objects, got {tun!r}")
            for d in tun.dots:
                if d not in dot_names:
                    raise ValueError(f"tunnel names unknown dot {d!r}; allowed dots: {dot_names}")
            a, b = tun.dots
            if a == b:
                raise ValueError(f"a tunnel needs two different dots, got {tun.dots}")
            if species[a] != species[b]:
                raise ValueError(f"tunnelling conserves spin: dots {a!r} ({species[a]}) and {b!r} "
                                 f"({species[b]}) hold different species")
        ref = self.reference_lead if self.reference_lead is not None else lead_names[-1]
        if ref not in lead_names:
            raise ValueError(f"reference_lead {ref!r} is not a lead; allowed leads: {lead_names}")
        object.__setattr__(self, "reference_lead", ref)
        object.__setattr__(self, "aliases", dict(self.aliases))
        object.__setattr__(self, "parameters", dict(self.parameters))
        # broadcast check now, so a shape mismatch is reported at build time
        _ = self.shape

    @property
    def dot_names(self) -> tuple[str, ...]:
        """Names of the dots, in state-label order."""
        return tuple(d.name for d in self.dots)

    @property
    def lead_names(self) -> tuple[str, ...]:
        """Names of the leads."""
        return tuple(lead.name for lead in self.leads)

    @property
    def lead_dots(self) -> tuple[str, ...]:
        """The dot each lead is attached to, in lead order."""
        return tuple(lead.dot for lead in self.leads)

    def lead(self, name: str) -> Lead:
        """Return the lead called ``name`` (``ValueError`` if there is none)."""
        for lead in self.leads:
            if lead.name == name:
                return lead
        raise ValueError(f"unknown lead {name!r}; allowed leads: {list(self.lead_names)}")

    def _arrays(self) -> list[tuple[str, NDArray[np.float64]]]:
        out: list[tuple[str, NDArray[np.float64]]] = []
        for d in self.dots:
            out.append((f"level of dot {d.name!r}", np.asarray(d.level)))
        for lead in self.leads:
            out.append((f"T[{lead.name!r}]", np.asarray(lead.temperature)))
            out.append((f"mu[{lead.name!r}]", np.asarray(lead.chemical_potential)))
            if isinstance(lead.coupling, Mapping):
                for k, v in lead.coupling.items():
                    out.append((f"gamma[{lead.name!r}, {k!r}]", np.asarray(v)))
            elif not callable(lead.coupling):
                out.append((f"gamma[{lead.name!r}]", np.asarray(lead.coupling)))
        for inter in self.interactions:
            out.append((f"U{inter.dots}", np.asarray(inter.coulomb)))
            out.append((f"J{inter.dots}", np.asarray(inter.exchange)))
        for tun in self.tunnels:
            out.append((f"t{tun.dots}", np.asarray(tun.amplitude)))
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of all parameters (the batch shape of every result)."""
        arrays = self._arrays()
        try:
            return tuple(np.broadcast_shapes(*(a.shape for _, a in arrays)))
        except ValueError:
            shapes = ", ".join(f"{n}: {a.shape}" for n, a in arrays if a.shape)
            raise ValueError(f"device parameters do not broadcast together: {shapes}") from None

    def finalized(self) -> System:
        """Build the many-body system: states, energies and tunnelling channels."""
        return System.from_device(self)

