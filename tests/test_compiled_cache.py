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
