"""Start-up: what ``import qdthermo`` and a small sweep load (an import-graph check, not a timing one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

#: heavy modules that only some commands need: never loaded by ``import qdthermo``
NOT_ON_IMPORT = ("scipy.sparse", "scipy.special", "zarr", "xarray", "dask", "matplotlib", "numba", "pandas")


def _loaded(code: str, tmp: Path) -> set[str]:
    """The modules loaded after running ``code`` in a fresh interpreter (this worktree's qdthermo)."""
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp, check=True, capture_output=True,
                         text=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_loads_no_heavy_module(tmp_path: Path) -> None:
    loaded = _loaded("import qdthermo", tmp_path)
    assert "qdthermo.sweeps" in loaded
    assert not [m for m in NOT_ON_IMPORT if m in loaded]


def test_small_sweep_to_a_store_loads_no_zarr_xarray_or_dask(tmp_path: Path) -> None:
    """What ``qdthermo sweep`` runs: a small grid into a store, without zarr (written directly), xarray, Dask."""
    code = ("import numpy as np, qdthermo as qd\n"
            "from qdthermo.sweeps.run import write_sweep\n"
            "write_sweep(qd.coupled_transport, store='s.zarr', F_E=np.linspace(-1, 0.5, 10),\n"
            "            F_N=np.linspace(-3, 3, 10), eps_L=1.0, J=12.0, progress=False)\n")
    loaded = _loaded(code, tmp_path)
    assert (tmp_path / "s.zarr").is_dir()
    assert not [m for m in ("zarr", "numcodecs", "xarray", "dask", "distributed", "pandas", "scipy.sparse",
                            "scipy.special", "matplotlib", "numba", "tqdm", "multiprocessing") if m in loaded]
