"""Fermi functions and tunnelling rates: the values of the Pauli generator (docs/physics.md).

For a channel of lead nu with transition energy w:

``k^+ = Gamma(w) f(w)`` (electron enters the system),
``k^- = Gamma(w) (1 - f(w))`` (electron leaves),
``f(w) = 1 / (exp((w - mu)/T) + 1)``.

The Fermi function is evaluated as a logistic function
(:func:`scipy.special.expit`), which never overflows or warns for any
``(w - mu)/T``; the local-detailed-balance log-ratio
``ln(k^+/k^-) = -(w - mu)/T`` is computed directly, never as the log of a
ratio of two rounded numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qdthermo._special import expit
from qdthermo.model.system import System

__all__ = ["fermi", "fermi_argument", "Rates", "rates"]

Array = NDArray[np.float64]


def fermi_argument(w: ArrayLike, mu: ArrayLike, T: ArrayLike) -> Array:
    """``(w - mu)/T`` [dimensionless], without overflow warnings (inf is allowed)."""
    with np.errstate(over="ignore"):
        return (np.asarray(w, dtype=float) - mu) / np.asarray(T, dtype=float)


def fermi(w: ArrayLike, mu: ArrayLike, T: ArrayLike) -> Array:
    """Fermi-Dirac occupation ``1/(exp((w - mu)/T) + 1)``, overflow-free.

    Parameters
    ----------
    w, mu
        Energy and chemical potential [energy unit].
    T
        Temperature k_B T [energy unit], > 0.

    Returns
    -------
    numpy.ndarray
        The occupation in [0, 1], of the broadcast shape of the arguments.

    Examples
    --------
    >>> import qdthermo as qd
    >>> float(qd.fermi(0.0, 0.0, 1.0))
    0.5
    """
    return expit(-fermi_argument(w, mu, T))


@dataclass(frozen=True, eq=False)
class Rates:
    """Excitation and de-excitation rates of every channel.

    Attributes
    ----------
    plus
        ``(*shape, n_channels)`` rate ``k^+`` of ``i -> j`` (electron enters) [rate unit].
    minus
        ``(*shape, n_channels)`` rate ``k^-`` of ``j -> i`` (electron leaves) [rate unit].
    log_ratio
        ``(*shape, n_channels)`` ``ln(k^+/k^-) = -(w - mu)/T`` computed directly.
    coupling
        ``(*shape, n_channels)`` tunnel coupling ``Gamma(w)`` [rate unit]
        (``k^+ + k^- = Gamma``), used for the exact logarithms of the rates.

    Examples
    --------
    Detailed balance: ``k^+ / k^- = exp(-(w - mu)/T)`` and ``k^+ + k^- = Gamma``.

    >>> import numpy as np, qdthermo as qd
    >>> from qdthermo.kinetics.rates import rates
    >>> k = rates(qd.single_dot(eps=0.5, T={"L": 2.0, "R": 1.0}).finalized())
    >>> k.shape, k.log_ratio.tolist()
    ((), [-0.25, -0.5])
    >>> bool(np.allclose(k.plus + k.minus, k.coupling)), bool(np.allclose(np.log(k.plus / k.minus), k.log_ratio))
    (True, True)
    """

    plus: Array
    minus: Array
    log_ratio: Array
    coupling: Array

    @property
    def shape(self) -> tuple[int, ...]:
        """Batch shape."""
        return tuple(np.broadcast_shapes(self.plus.shape, self.minus.shape)[:-1])

    def with_time_axis(self) -> "Rates":
        """The same rates with a length-1 axis before the channel axis (to broadcast against times)."""
        return Rates(self.plus[..., None, :], self.minus[..., None, :],
                     self.log_ratio[..., None, :], self.coupling[..., None, :])

    def log_rates(self) -> tuple[Array, Array]:
        """``(ln k^+, ln k^-)``, exact where the rates underflow; ``-inf`` where Gamma = 0.

        ``ln k^+ = ln Gamma - ln(1 + e^x)``, ``ln k^- = ln Gamma - ln(1 + e^-x)``,
        ``x = (w - mu)/T = -log_ratio``.
        """
        with np.errstate(divide="ignore"):
            log_gamma = np.log(self.coupling)
        return log_gamma - np.logaddexp(0.0, -self.log_ratio), log_gamma - np.logaddexp(0.0, self.log_ratio)


def _times(g: Array, p: Array) -> Array:
    """``g * p``, in place in ``p`` (a temporary) where the shapes allow."""
    if p.shape == np.broadcast_shapes(g.shape, p.shape) and p.dtype == np.result_type(g, p):
        p *= g
        return p
    return g * p  # type: ignore[no-any-return]


def rates(system: System) -> Rates:
    """Channel rates of a finalized system (see :class:`Rates`)."""
    x = fermi_argument(system.channel_energy, system.channel_chemical_potential,
                       system.channel_temperature)
    g = system.channel_coupling
    log_ratio = -x
    plus, minus = _times(g, expit(log_ratio)), _times(g, expit(x))
    for a in (plus, minus, log_ratio):
        a.setflags(write=False)
    return Rates(plus=plus, minus=minus, log_ratio=log_ratio, coupling=g)
