"""``qdthermo paper --set``: the shared parameter language; an error names only what was set."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qdthermo.cli import main
from qdthermo.paper.config import load_toml, parse_set


@pytest.mark.parametrize(
    ("text", "message"),
    [("eps_L=-1", "eps_L = -1.0: must be positive (allowed range: 0 < eps_L < inf)"),
     ("eps_L=nan", "eps_L = nan: must be a finite number"),
     ("T_b=0", "T_b = 0.0: must be positive"),
     ("gamma=-1", "gamma = -1.0: must be non-negative"),
     ("x_values=[1, nan]", "x_values = [1.0, nan]: must be a finite number"),
     ("eps_L", "NAME=VALUE")],
)
def test_set_names_only_what_was_set(text: str, message: str) -> None:
    r = CliRunner().invoke(main, ["paper", "--set", text, "--print-config"])
    assert r.exit_code == 2 and message in r.output, r.output
    for derived in ("fe_max", "quad_fe", "line_fe_max", "np.float64"):
        assert derived not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_values_use_the_shared_syntax(tmp_path) -> None:
    assert parse_set(["x_values=[2, -2]", "eps_R = 0.5", "n_plane=21", "vector_format=pdf"]) == {
        "x_values": (2.0, -2.0), "eps_R": 0.5, "n_plane": 21, "vector_format": "pdf"}
    path = tmp_path / "p.toml"
    path.write_text("[paper]\neps_L = 2.0\nmu_b = nan\n")
    with pytest.raises(ValueError, match=r"^mu_b = nan: must be a finite number$"):
        load_toml(path)
