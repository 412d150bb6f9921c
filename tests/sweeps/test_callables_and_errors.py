"""qd.sweep of any device function; clear one-line errors (scheduler, guard, pickling); Ctrl-C in the CLI."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.sweeps import _worker, sweep_status
from qdthermo.sweeps.config import ConfigError, parse_config

SRC = Path(__file__).resolve().parents[2] / "src"


def my_device(a: float, b: float = 0.0) -> qd.Device:
    """A module-level (picklable) device function: a single dot with level a and bias b."""
    return qd.single_dot(eps=a, T={"L": 2.0, "R": 1.0}, mu={"L": b, "R": 0.0})


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_any_device_function_sweeps_with_its_own_dims() -> None:
    a = np.linspace(0.5, 1.5, 7)
    ds = qd.sweep(my_device, a=a, b=[0.0, 1.0], scheduler="serial", progress=False)
    assert ds.populations.dims[:2] == ("a", "b") and ds.sizes["a"] == 7 and ds.sizes["b"] == 2
    np.testing.assert_array_equal(ds.a.values, a)
    ref = qd.solve(my_device(a[3], 1.0))
    np.testing.assert_allclose(ds.populations.sel(a=a[3], b=1.0).values, ref.populations, rtol=1e-14)
    assert ds.attrs["preset"].endswith("my_device")


def test_device_function_on_the_process_pool_equals_serial() -> None:
    kw = dict(a=np.linspace(0.5, 1.5, 9), b=[0.0, 1.0, 2.0], chunk_points=3, progress=False)
    pool = qd.sweep(my_device, scheduler="processes", **kw)
    serial = qd.sweep(my_device, scheduler="serial", **kw)
    np.testing.assert_array_equal(pool.populations.values, serial.populations.values)


def test_function_that_returns_no_device_is_named() -> None:
    with pytest.raises(ValueError, match=r"<lambda> returned int, not a qdthermo Device"):
        qd.sweep(lambda a: 3, a=[1.0, 2.0], scheduler="serial", progress=False)


def test_unpicklable_function_needs_serial() -> None:
    def local(a: float) -> qd.Device:
        return qd.single_dot(eps=a)

    with pytest.raises(ValueError, match=r"local cannot be sent to worker processes.*scheduler=\"serial\""):
        qd.sweep(local, a=np.linspace(0, 1, 4), chunk_points=2, progress=False)
    ds = qd.sweep(local, a=np.linspace(0, 1, 4), chunk_points=2, scheduler="serial", progress=False)
    assert ds.sizes["a"] == 4


def test_unreachable_scheduler_fails_fast_in_one_line(tmp_path: Path) -> None:
    t0 = time.monotonic()
    with pytest.raises(ValueError, match=r"no Dask scheduler answers at tcp://127\.0\.0\.1:1 within 3 s"):
        qd.sweep(qd.single_dot, eps=[0.0, 1.0], scheduler="tcp://127.0.0.1:1", progress=False)
    assert time.monotonic() - t0 < 10
    cfg = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sweep.toml"
    result = run("sweep", str(cfg), "--out", str(tmp_path / "s.zarr"), "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no Dask scheduler answers"), result.output


def test_script_without_main_guard_gets_one_clear_line(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import qdthermo as qd
        qd.sweep(qd.coupled_transport, F_E=np.linspace(-1, 0.5, 40), F_N=np.linspace(-1, 1, 30),
                 chunk_points=100, scheduler="processes", progress=False)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SRC), "PATH": ""}, cwd=tmp_path)
    assert proc.returncode == 1
    assert "BrokenProcessPool" not in proc.stderr and "bootstrapping" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: the worker processes of the sweep could not start")
    assert 'if __name__ == "__main__":' in last
    assert len(proc.stderr.splitlines()) < 20, proc.stderr


def test_ctrl_c_prints_the_chunks_saved_and_the_resume_command(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('preset = "single_dot"\nscheduler = "serial"\n'
                   "[parameters]\neps = { start = 0, stop = 1, num = 10 }\n")
    store = tmp_path / "out dir" / "s.zarr"
    original = _worker.compute_chunk

    def interrupted(job, k):
        if k == 3:
            raise KeyboardInterrupt
        return original(job, k)

    monkeypatch.setattr(_worker, "compute_chunk", interrupted)
    result = run("sweep", str(cfg), "--out", str(store), "--chunk-points", "2", "--no-progress")
    assert result.exit_code == 130
    assert f"Interrupted: 3 of 5 chunks are saved in {store}" in result.stderr
    command = f"qdthermo sweep {cfg} --out '{store}' --chunk-points 2 --no-progress"
    assert f"Resume with: {command}" in result.stderr
    assert "Aborted" not in result.output
    monkeypatch.setattr(_worker, "compute_chunk", original)
    result = run(*shlex.split(command)[1:])  # the printed command resumes
    assert result.exit_code == 0 and sweep_status(store)["complete"]


# ----------------------------------------------------------- the parameter language in sweep files
def test_partial_lead_table_takes_the_preset_default() -> None:
    cfg = parse_config({"preset": "three_terminal", "parameters": {"eps_L": [0.0, 1.0], "eps_R": 1.0,
                                                                   "mu": {"t": 0.2}}})
    assert cfg.parameters["mu"] == {"t": 0.2, "b": 0.0, "r": 0.0}


def test_flat_names_and_top_level_parameters() -> None:
    cfg = parse_config({"preset": "three_terminal", "eps_L": 1.0, "eps_R": 1.0, "T_t": [1.0, 2.0],
                        "mu": {"t": 0.1}})
    assert list(cfg.parameters["T"]) == ["t", "b", "r"]
    np.testing.assert_array_equal(cfg.parameters["T"]["t"], [1.0, 2.0])
    ds = qd.sweep(cfg.preset, scheduler="serial", progress=False, **cfg.parameters)
    assert ds.populations.dims[0] == "T_t" and ds.T_t.attrs["units"] == "energy"


def test_values_are_checked_against_the_registry() -> None:
    with pytest.raises(ConfigError, match=r"^c: parameters\.T_t = -1\.0: must be positive \(allowed range: 0 < T_t"):
        parse_config({"preset": "three_terminal", "parameters": {"eps_L": 1.0, "eps_R": 1.0,
                                                                 "T": {"t": [1.0, -1.0]}}}, source="c")
    with pytest.raises(ConfigError, match=r"T_x.*unknown lead 'x'.*allowed leads: t, b, r"):
        parse_config({"preset": "three_terminal", "parameters": {"eps_L": 1.0, "eps_R": 1.0, "T_x": 1.0}})
    with pytest.raises(ConfigError, match=r"unknown key 'what'; allowed keys: .*a parameter of three_terminal"):
        parse_config({"preset": "three_terminal", "eps_L": 1.0, "eps_R": 1.0, "what": 1})


def test_error_messages_print_plain_numbers() -> None:
    with pytest.raises(ValueError, match=r"swept values must be finite, got nan$"):
        qd.sweep(qd.single_dot, eps=np.array([0.0, np.nan]), progress=False)
    with pytest.raises(ValueError) as info:
        qd.sweep(qd.single_dot, eps=np.array([[0.0]]), progress=False)
    assert "np.float64" not in str(info.value)


def test_sweep_help_carries_the_schema() -> None:
    out = run("sweep", "--help").output
    assert "docs/sweeps.md" not in out
    for word in ("preset =", "[parameters]", "start", "spacing", "T_t", "default"):
        assert word in out, word


def test_numpy_scalars_in_messages_are_plain() -> None:
    with pytest.raises(ValueError, match=r"chunk_points must be a positive integer, got 0$"):
        qd.sweep(qd.single_dot, eps=[1.0], chunk_points=np.int64(0), progress=False)
    with pytest.raises(ValueError, match=r"got nan$"):
        qd.sweep(qd.single_dot, eps=[1.0], scheduler=np.float64("nan"), progress=False)
