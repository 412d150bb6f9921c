"""``qdthermo sweep CONFIG.toml --out STORE``: the documented TOML schema, named errors, the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.sweeps import open_sweep
from qdthermo.sweeps.config import ConfigError, load_config, parse_config
from tests.sweeps.helpers import assert_same_results

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sweep.toml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_documented_example_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.preset == "coupled_transport" and cfg.chunk_points == 65536 and cfg.scheduler is None
    assert list(cfg.parameters)[:2] == ["F_E", "F_N"]
    np.testing.assert_array_equal(cfg.parameters["F_E"], np.linspace(-1.0, 0.5, 151))
    np.testing.assert_array_equal(cfg.parameters["F_N"], np.linspace(-3.0, 3.0, 121))
    assert cfg.parameters["J"] == 12.0


def test_documented_example_runs_from_the_command_line(tmp_path: Path) -> None:
    store = tmp_path / "phase.zarr"
    result = run("sweep", str(EXAMPLE), "--out", str(store), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "wrote F_E 151 x F_N 121 of coupled_transport" in result.output
    cfg = load_config(EXAMPLE)
    ref = qd.sweep(cfg.preset, chunk_points=cfg.chunk_points, scheduler="serial", progress=False, **cfg.parameters)
    assert_same_results(open_sweep(store).load(), ref)
    # running it again resumes (here: nothing left to do) instead of failing
    assert run("sweep", str(EXAMPLE), "--out", str(store), "--no-progress").exit_code == 0


def test_all_value_forms(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("""
preset = "three_terminal"
scheduler = "serial"
[parameters]
eps_L = [0.5, 1.0]
eps_R = 1.0
gamma = { start = 0.1, stop = 10, num = 3, spacing = "log" }
T = { t = { start = 1.0, stop = 2.0, num = 4 }, b = 1, r = 1.0 }
reference_lead = "b"
""")
    cfg = load_config(path)
    assert cfg.scheduler == "serial" and cfg.chunk_points is None
    np.testing.assert_allclose(cfg.parameters["gamma"], [0.1, 1.0, 10.0])
    np.testing.assert_array_equal(cfg.parameters["T"]["t"], np.linspace(1, 2, 4))
    store = tmp_path / "s.zarr"
    result = run("sweep", str(path), "-o", str(store), "--no-progress", "--chunk-points", "5")
    assert result.exit_code == 0, result.output
    ds = open_sweep(store)
    assert ds.populations.dims == ("eps_L", "gamma", "T_t", "state")
    assert ds.attrs["reference_lead"] == "b" and ds.attrs["T_b"] == 1.0


GOOD = {"preset": "coupled_transport", "parameters": {"F_E": [0.0, 0.1], "F_N": 0.0}}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"presets": "x"}, r"unknown key 'presets'; allowed keys: preset"),
        ({"preset": None}, r"missing key 'preset'"),
        ({"parameters": None}, r"missing key 'parameters'"),
        ({"preset": "coupled"}, r"preset: unknown preset 'coupled'; allowed: three_terminal, coupled_transport"),
        ({"chunk_points": 0}, r"chunk_points: must be a positive integer, got 0"),
        ({"chunk_points": "big"}, r"chunk_points: must be a positive integer, got 'big'"),
        ({"scheduler": 5}, r"scheduler: must be 'serial', 'local' or a Dask scheduler address"),
        ({"parameters": [1, 2]}, r"parameters: must be a table"),
        ({"parameters": {"F_E": {"start": 0, "stop": 0.1, "num": -2}, "F_N": 0.0}},
         r"parameters\.F_E\.num: must be a positive integer, got -2"),
        ({"parameters": {"F_E": {"start": 0, "stop": 0.1}, "F_N": 0.0}}, r"parameters\.F_E\.num: missing"),
        ({"parameters": {"F_E": {"start": 0, "stop": 0.1, "num": 3, "step": 1}, "F_N": 0.0}},
         r"parameters\.F_E\.step: unknown key"),
        ({"parameters": {"F_E": {"start": "a", "stop": 0.1, "num": 3}, "F_N": 0.0}},
         r"parameters\.F_E\.start: must be a number, got 'a'"),
        ({"parameters": {"F_E": {"start": 0.0, "stop": 0.1, "num": 3, "spacing": "cubic"}, "F_N": 0.0}},
         r"parameters\.F_E\.spacing: must be one of \['linear', 'log'\], got 'cubic'"),
        ({"parameters": {"F_E": {"start": 0.0, "stop": 0.1, "num": 3, "spacing": "log"}, "F_N": 0.0}},
         r"parameters\.F_E: a log range needs start > 0"),
        ({"parameters": {"F_E": [[0.0, 0.1]], "F_N": 0.0}}, r"parameters\.F_E: an array of swept values must hold"),
        ({"parameters": {"F_E": [], "F_N": 0.0}}, r"parameters\.F_E: an array of swept values must hold"),
        ({"parameters": {"F_E": True, "F_N": 0.0}}, r"parameters\.F_E: must be a number, a string"),
        ({"parameters": {"F_E": 0.0, "F_N": {"x": {"y": 1}}}}, r"parameters\.F_N\.x: must be a number"),
        ({"parameters": {"F_E": 0.0, "F_N": 0.0, "Fn": 1.0}}, r"parameters: unknown parameter\(s\) \['Fn'\]"),
        ({"parameters": {"F_N": 0.0}}, r"parameters: preset 'coupled_transport' needs parameter\(s\) \['F_E'\]"),
    ],
)
def test_bad_key_or_value_is_named(change: dict, match: str) -> None:
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError, match=rf"^cfg\.toml: {match}"):
        parse_config(data, source="cfg.toml")


def test_command_reports_errors_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('preset = "coupled_transport"\n[parameters]\nF_E = { start = 0, stop = 1, num = "x" }\nF_N = 0\n')
    result = run("sweep", str(path), "--out", str(tmp_path / "s.zarr"))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "parameters.F_E.num: must be a positive integer, got 'x'" in result.output

    path.write_text('preset = "coupled_transport"\n[parameters\n')
    result = run("sweep", str(path), "--out", str(tmp_path / "s.zarr"))
    assert result.exit_code == 1 and "not valid TOML" in result.output

    # a value the preset refuses: named with the allowed range
    path.write_text('preset = "coupled_transport"\n[parameters]\nF_E = [0.5, 1.5]\nF_N = 0\n')
    result = run("sweep", str(path), "--out", str(tmp_path / "s.zarr"), "--scheduler", "serial")
    assert result.exit_code == 1 and "F_E = 1.5" in result.output and "allowed range: F_E < 1/T_ref" in result.output

    result = run("sweep", str(EXAMPLE))
    assert result.exit_code == 2 and "--out" in result.output
