"""Parameter sweeps at scale: a preset on a grid, in chunks, into a labelled, resumable Zarr store.

>>> import numpy as np, qdthermo as qd
>>> ds = qd.sweep(qd.coupled_transport, F_E=np.linspace(-1, 0.5, 201),
...               F_N=np.linspace(-2, 2, 201), eps_L=1.0, J=12.0, progress=False)

With ``store="phase.zarr"`` the results stream into a Zarr store chunk by
chunk and an interrupted run resumes where it stopped; ``scheduler="local"``
or the address of a Dask scheduler runs the chunks on a Dask cluster.  See
``docs/sweeps.md`` and the ``qdthermo sweep`` command.
"""

from qdthermo.sweeps.plan import DEFAULT_CHUNK_POINTS, PRESETS
from qdthermo.sweeps.run import sweep
from qdthermo.sweeps.store import open_sweep, sweep_status

__all__ = ["DEFAULT_CHUNK_POINTS", "PRESETS", "open_sweep", "sweep", "sweep_status"]
