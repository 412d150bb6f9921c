"""The README's command-line examples and the shipped example configurations run as written."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.sweeps import open_sweep
from qdthermo.sweeps.config import load_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = ROOT / "docs" / "examples"


def _command_lines() -> list[str]:
    section = README[README.index("## Command line"):README.index("## Reproducing the paper")]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.startswith("qdthermo ")]


@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_line_examples_run(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = shlex.split(line)[1:]
    monkeypatch.chdir(tmp_path)  # outputs go under the temporary folder, docs/ is the repository's
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    result = CliRunner().invoke(main, words)
    assert result.exit_code == 0, (line, result.output)
    assert "Deprecated" not in result.output
    for i, w in enumerate(words[:-1]):
        if w in ("--out", "-o"):
            assert words[i + 1].startswith("outputs/"), "README examples write under outputs/"


def test_readme_uses_the_new_spelling_and_no_outputs_in_the_clone_root() -> None:
    assert " -p " not in README.replace("`-p T.t=2`", "")
    assert "--out other" not in README and "--out again" not in README
    assert "venv" in README[README.index("## Set-up"):README.index("## A first example")]


def test_my_device_example_is_the_python_device() -> None:
    result = CliRunner().invoke(main, ["point", "--json", "--config", str(EXAMPLES / "my_device.toml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    device = qd.three_terminal(1.0, 1.0, U=0.5, J=0.0, T={"t": 2.0, "b": 1.0, "r": 1.0},
                               mu={"t": 0.2, "b": 0.0, "r": 0.0}, gamma={"t": 1.0, "b": 1.0, "r": 0.5})
    res = qd.solve(device)
    assert data["particle_current"]["t"] == pytest.approx(float(res.particle_current["t"]), rel=1e-14)
    assert data["parameters"]["gamma_t"] == 1.0 and data["parameters"]["T_b"] == 1.0


def test_my_device_sweep_example(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLES / "my_device_sweep.toml")
    assert cfg.preset == "three_terminal"
    np.testing.assert_array_equal(cfg.parameters["T"]["t"], np.linspace(1.0, 3.0, 21))
    assert cfg.parameters["mu"]["b"] == 0.0 and cfg.parameters["gamma"] == {"t": 1.0, "b": 1.0, "r": 0.5}
    store = tmp_path / "s.zarr"
    result = CliRunner().invoke(main, ["sweep", str(EXAMPLES / "my_device_sweep.toml"), "--out", str(store),
                                       "--no-progress", "--scheduler", "serial"])
    assert result.exit_code == 0, result.output
    ds = open_sweep(store)
    assert ds.populations.dims[:2] == ("T_t", "mu_t")
    point = qd.solve(qd.three_terminal(1.0, 1.0, U=0.5, T={"t": 2.0, "b": 1.0, "r": 1.0},
                                       mu={"t": 0.1, "b": 0.0, "r": 0.0}, gamma={"t": 1.0, "b": 1.0, "r": 0.5}))
    np.testing.assert_allclose(ds.populations.sel(T_t=2.0, mu_t=0.1).values, point.populations, rtol=1e-12)
