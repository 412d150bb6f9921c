"""Exact time evolution of a linear master equation (Pauli or Lindblad): ``x(t) = expm(G t) x0``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["propagate"]


def propagate(generator: NDArray[Any], times: NDArray[np.float64], x0: NDArray[Any]) -> NDArray[Any]:
    """``expm(G t) x0`` for every t: ``(*shape, n_times, m)``.

    Parameters
    ----------
    generator
        ``(*shape, m, m)`` generator G [rate unit] (batched; ``scipy.linalg.expm`` handles the batch).
    times
        ``(n_times,)`` times [1/rate].
    x0
        ``(m,)`` or ``(*shape, m)`` initial vector.
    """
    from scipy.linalg import expm  # lazy: keeps ``import qdthermo`` fast

    batch = generator.shape[:-2]
    x0 = np.broadcast_to(x0, batch + x0.shape[-1:])
    out = np.empty(batch + (len(times), x0.shape[-1]), dtype=np.result_type(generator, x0))
    for k, t in enumerate(times):
        out[..., k, :] = np.einsum("...ij,...j->...i", expm(generator * t), x0)
    return out
