"""The on-disk kernel cache is invalidated when a kernel's callee in another module changes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qdthermo import _compiled

SRC = Path(__file__).resolve().parents[1] / "src"

CALLER = textwrap.dedent('''
    from qdthermo._compiled import kernel
    from callee import value

    @kernel()
    def caller(x):
        return value(x) + 1.0
    ''')

RUN = "import sys; sys.path.insert(0, {path!r}); import caller; print(caller.caller(1.0))"


@pytest.mark.skipif(not _compiled.available(), reason="Numba unavailable or disabled")
def test_changed_callee_recompiles_the_caller(tmp_path: Path) -> None:
    (tmp_path / "caller.py").write_text(CALLER)
    env = {**os.environ, "PYTHONPATH": str(SRC), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run(factor: float) -> str:
        (tmp_path / "callee.py").write_text(textwrap.dedent(f'''
            from qdthermo._compiled import kernel

            @kernel(inline="always")
            def value(x):
                return {factor} * x
            '''))
        os.utime(tmp_path / "callee.py", (1e9 + factor, 1e9 + factor))  # a distinct stamp for each version
        out = subprocess.run([sys.executable, "-c", RUN.format(path=str(tmp_path))], env=env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    assert run(2.0) == "3.0"
    assert run(2.0) == "3.0"  # from the cache
    assert any((tmp_path / "cache").rglob("*.nbi"))
    assert run(5.0) == "6.0"  # the callee changed: not the stale machine code of the caller


LOADED = textwrap.dedent('''
    import json, sys
    import numpy as np
    import qdthermo as qd

    dev = qd.three_terminal(np.linspace(-1.0, 2.0, 50), 0.3, U=1.0, J=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0},
                            mu={"t": 0.2, "b": 0.0, "r": 0.0})
    res = qd.solve(dev, method="compiled")
    values = [np.asarray(res.populations).tolist(), np.asarray(res.entropy_production).tolist(),
              np.asarray(res.particle_current["t"]).tolist()]
    print(json.dumps({"values": values, "registries": "numba.np.arraymath" in sys.modules}))
    ''')


@pytest.mark.skipif(not _compiled.available(), reason="Numba unavailable or disabled")
def test_cached_kernels_load_without_the_compiler_registries() -> None:
    """A process that finds its kernels cached loads them without Numba's lowering registries (~0.6 s) and
    gets the results of the process that compiled them."""
    import json

    env = {**os.environ, "PYTHONPATH": str(SRC)}  # the usual cache (compiled by the first run if not yet)

    def run() -> dict[str, object]:
        out = subprocess.run([sys.executable, "-c", LOADED], env=env, check=True, capture_output=True, text=True)
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    first, loaded = run(), run()
    assert not loaded["registries"]  # the second process read the machine code only
    assert loaded["values"] == first["values"]
