"""``plot_slice`` and ``qdthermo plot``: labelled 1-D and 2-D slices of a sweep, named errors."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from click.testing import CliRunner

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.plot import plot_slice
from qdthermo.sweeps import open_sweep
from qdthermo.units import QUANTITIES


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plot") / "phase.zarr"
    qd.sweep(qd.coupled_transport, store=path, scheduler="serial", progress=False,
             F_E=np.linspace(-1.0, 0.5, 31), F_N=np.linspace(-3.0, 3.0, 25), U=[0.0, 1.0], eps_L=1.0, J=12.0)
    return path


def assert_not_blank(png: Path) -> None:
    assert png.is_file() and png.stat().st_size > 1000
    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    colours = np.unique(img.reshape(-1, img.shape[-1]), axis=0)
    assert len(colours) > 20  # drawn, not a uniform canvas


def test_2d_map_is_labelled(store: Path, tmp_path: Path) -> None:
    fig = plot_slice(store, "entropy_production", U=0.9)  # nearest: U = 1
    ax, cax = fig.axes
    label = "{1} [{0}]".format
    assert ax.get_xlabel() == label(*QUANTITIES["F_N"])
    assert ax.get_ylabel() == label(*QUANTITIES["F_E"])
    assert cax.get_ylabel() == label(*QUANTITIES["entropy_production"])
    assert "U = 1" in ax.get_title()
    fig.savefig(tmp_path / "map.png")
    assert_not_blank(tmp_path / "map.png")


def test_regime_map_has_named_categories(store: Path) -> None:
    fig = plot_slice(store, "regime_J_N", U=0.0)
    cax = fig.axes[1]
    names = [t.get_text() for t in cax.get_yticklabels()]
    assert "ICC" in names and "NORMAL" in names


def test_1d_line_and_labels_from_a_dataset(store: Path, tmp_path: Path) -> None:
    ds = open_sweep(store)
    fig = plot_slice(ds, "particle_current", lead="t", U=0, F_E=-0.5)
    (ax,) = fig.axes
    assert ax.get_xlabel().startswith("particle force F_N")
    assert ax.get_ylabel() == "{1} [{0}]".format(*QUANTITIES["particle_current"])
    assert "lead = t" in ax.get_title() and "F_E = -0.5" in ax.get_title()
    fig.savefig(tmp_path / "line.png")
    assert_not_blank(tmp_path / "line.png")
    # a label dimension on the x axis: one bar per lead
    fig = plot_slice(ds, "heat_current", U=0, F_E=-0.5, F_N=1.0)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["t", "b", "r"]


@pytest.mark.parametrize(
    ("var", "selection", "match"),
    [
        ("populations", {"U": 0}, r"3 dimensions left.*Unselected dimensions: \['F_E', 'F_N', 'state'\]"),
        ("entropy_production", {}, r"Unselected dimensions: \['F_E', 'F_N', 'U'\]"),
        ("nope", {}, r"unknown variable 'nope'; available: \["),
        ("populations", {"lead": "t"}, r"'populations' has no dimension 'lead'; its dimensions: \['F_E'"),
        ("particle_current", {"lead": "x", "U": 0}, r"lead='x': not a label of lead; allowed: \['t', 'b', 'r'\]"),
        ("power", {"U": "high"}, r"U='high': U is numeric \(from 0\.0 to 1\.0\); give a number"),
        ("power", {"U": 0, "F_E": 0, "F_N": 0}, r"nothing left to plot"),
    ],
)
def test_bad_selections_are_named(store: Path, var: str, selection: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_slice(store, var, **selection)


def test_plot_command(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.png"
    result = CliRunner().invoke(main, ["plot", str(store), "cop", "--sel", "U=0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert_not_blank(out)

    result = CliRunner().invoke(main, ["plot", str(store), "populations", "--sel", "U=1", "-o", str(out)])
    assert result.exit_code == 1 and "Unselected dimensions: ['F_E', 'F_N', 'state']" in result.output
    result = CliRunner().invoke(main, ["plot", str(store), "cop", "--sel", "U"])
    assert result.exit_code == 2 and "'U': expected DIM=VALUE" in result.output


# ------------------------------------------------ palette, regimes, refusals (issue 15 items 4-6, 11)
def test_regime_colours_come_from_the_shared_palette(store: Path) -> None:
    from matplotlib.colors import to_hex

    from qdthermo.plot.palette import REGIME_COLORS

    fig = plot_slice(store, "regime_J_N", U=0.0)
    mesh = fig.axes[0].collections[0]
    colours = [to_hex(mesh.cmap(mesh.norm(int(r)))) for r in qd.Regime]
    assert colours == [REGIME_COLORS[r] for r in qd.Regime]
    assert REGIME_COLORS[qd.Regime.ICC] == "#d73027" and REGIME_COLORS[qd.Regime.CROSS_EFFECT] == "#4575b4"


def test_1d_regime_plot_uses_regime_names(store: Path) -> None:
    fig = plot_slice(store, "regime_J_N", U=1.0, F_E=-0.5)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [r.name for r in qd.Regime]
    assert not ax.get_lines() or all(line.get_drawstyle() != "default" for line in ax.get_lines())


def test_signed_map_is_diverging_with_a_marked_zero(store: Path) -> None:
    fig = plot_slice(store, "particle_current", lead="t", U=1.0)
    ax, cax = fig.axes
    mesh = ax.collections[0]
    from qdthermo.plot.palette import DIVERGING

    assert mesh.cmap.name == DIVERGING
    assert mesh.norm.vmin == -mesh.norm.vmax  # symmetric: white is zero
    assert len(ax.collections) > 1  # the zero contour
    assert "0: black line" in cax.get_ylabel()


def test_selection_outside_the_grid_is_refused(store: Path) -> None:
    with pytest.raises(ValueError, match=r"F_E=99 is outside the grid: F_E runs from -1 to 0\.5"):
        plot_slice(store, "entropy_production", U=0, F_E=99)
    fig = plot_slice(store, "entropy_production", U=0, F_E=-0.47)
    assert "nearest to -0.47" in fig.axes[0].get_title()


def test_plot_command_refusals_are_one_line(store: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["plot", str(store), "cop", "--sel", "U=0", "-o", str(tmp_path / "out.xyz")])
    assert r.exit_code == 2 and "cannot write .xyz; use one of" in r.output and ".png" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out.xyz").exists()
    r = CliRunner().invoke(main, ["plot", str(tmp_path), "cop"])
    assert r.exit_code == 1 and "is not a Zarr store" in r.output and len(r.output.strip().splitlines()) == 1
    r = CliRunner().invoke(main, ["plot", str(store), "cop", "--sel", "U=0", "--sel", "F_E=99",
                                  "-o", str(tmp_path / "a.png")])
    assert r.exit_code == 1 and "outside the grid" in r.output
