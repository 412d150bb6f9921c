"""Classification of the response of a flux (PHYSICS.md section 8).

For a flux ``J_i`` with conjugate force ``F_i`` and the other force ``F_j``
of a mutually parallel pair (both drive transport the same way when
positive, e.g. ``F_E`` and ``F_N`` of the paper's device):

=======================  =========================  ==================
forces                   J_i                        regime
=======================  =========================  ==================
F_i = F_j = 0            (any; 0 in theory)         EQUILIBRIUM
F_j = 0, F_i != 0        with F_i                   NORMAL (direct)
F_j = 0, F_i != 0        against F_i                CROSS_EFFECT [*]
F_i = 0, F_j != 0        with F_j                   INDUCED
F_i = 0, F_j != 0        against F_j                PSEUDO_ICC
F_i F_j > 0              against both               ICC (genuine)
F_i F_j > 0              with both                  NORMAL
F_i F_j < 0              with F_j, against F_i      CROSS_EFFECT
F_i F_j < 0              with F_i                   NORMAL
any but equilibrium      J_i = 0                    NORMAL
=======================  =========================  ==================

[*] only possible when a third, non-parallel force (F_R) drives it.

"With" means the same sign.  "Zero" is decided with tolerances that the
user can set (:class:`Tolerance`): a force is zero when
``|F_E| T_min <= force_tol`` (energy forces) or
``|F_N| <= force_tol (1 + max|mu|/T_min)`` (particle forces); a flux is zero
when ``|J_N| <= flux_tol Gamma_max`` or ``|J_E| <= flux_tol Gamma_max E_scale``
with ``E_scale = max(max|w|, T_max)``.  Defaults: ``force_tol = flux_tol = 1e-9``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["INVALID_REGIME", "Regime", "Tolerance", "classify"]


class Regime(enum.IntEnum):
    """Response regime of one flux (stored as int8 in arrays).

    Examples
    --------
    The paper's inverse current: with the levels swapped (x < 0) the
    particle current runs against both forces.

    >>> import qdthermo as qd
    >>> res = qd.solve(qd.coupled_transport(F_E=0.5, F_N=0.25, J=12.0))
    >>> qd.Regime(res.regime["J_N"]).name, qd.Regime(res.regime["J_E"]).name
    ('ICC', 'NORMAL')
    >>> int(qd.Regime.ICC)
    4
    """

    EQUILIBRIUM = 0
    NORMAL = 1
    INDUCED = 2
    PSEUDO_ICC = 3
    ICC = 4
    CROSS_EFFECT = 5


#: regime code stored at points without a unique steady state (``SteadyState.valid`` is False)
INVALID_REGIME = -1


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerances deciding when a force or a flux counts as zero (see module docstring).

    Parameters
    ----------
    force_tol
        Relative tolerance of a zero force [dimensionless], finite and >= 0.
    flux_tol
        Relative tolerance of a zero flux [dimensionless], finite and >= 0.

    Raises
    ------
    ValueError
        If a tolerance is negative, infinite or NaN.

    Examples
    --------
    >>> from qdthermo.thermo import Tolerance
    >>> Tolerance(force_tol=1e-6)
    Tolerance(force_tol=1e-06, flux_tol=1e-09)
    """

    force_tol: float = 1e-9
    flux_tol: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("force_tol", "flux_tol"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and >= 0 (allowed range: 0 <= {name} < inf), got {v!r}")


def classify(
    J_i: ArrayLike,
    F_i: ArrayLike,
    F_j: ArrayLike,
    *,
    J_zero: ArrayLike,
    F_i_zero: ArrayLike,
    F_j_zero: ArrayLike,
) -> NDArray[np.int8]:
    """Regime of flux ``J_i`` (int8 codes of :class:`Regime`), broadcasting all inputs.

    Parameters
    ----------
    J_i
        The flux.
    F_i, F_j
        Its conjugate force and the other force of the parallel pair.
    J_zero, F_i_zero, F_j_zero
        Boolean masks saying where each counts as zero (see :class:`Tolerance`).

    Returns
    -------
    numpy.ndarray
        int8 codes of :class:`Regime`, of the broadcast shape of the inputs.

    Examples
    --------
    Both forces positive: a flux with them is normal, one against both is a
    genuine inverse current:

    >>> from qdthermo.thermo import classify
    >>> from qdthermo.thermo.regimes import Regime
    >>> codes = classify([1.0, -1.0], 0.5, 0.25, J_zero=False, F_i_zero=False, F_j_zero=False)
    >>> [Regime(c).name for c in codes]
    ['NORMAL', 'ICC']
    """
    J, Fi, Fj = np.broadcast_arrays(np.asarray(J_i), np.asarray(F_i), np.asarray(F_j))
    jz, iz, jz_f = np.broadcast_arrays(np.asarray(J_zero), np.asarray(F_i_zero), np.asarray(F_j_zero))
    sJ = np.where(jz, 0, np.sign(J))
    si = np.where(iz, 0, np.sign(Fi))
    sj = np.where(jz_f, 0, np.sign(Fj))
    R = Regime
    out = np.full(J.shape, R.NORMAL, dtype=np.int8)
    direct = (sj == 0) & (si != 0) & (sJ != 0)
    out[direct & (sJ != si)] = R.CROSS_EFFECT
    induced = (si == 0) & (sj != 0) & (sJ != 0)
    out[induced & (sJ == sj)] = R.INDUCED
    out[induced & (sJ != sj)] = R.PSEUDO_ICC
    parallel = (si * sj > 0) & (sJ != 0)
    out[parallel & (sJ != si)] = R.ICC
    opposing = (si * sj < 0) & (sJ != 0)
    out[opposing & (sJ == sj)] = R.CROSS_EFFECT
    out[(si == 0) & (sj == 0)] = R.EQUILIBRIUM
    return out
