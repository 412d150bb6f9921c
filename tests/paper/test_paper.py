"""``qdthermo paper --quick``: claims pass, figures exist and are not blank, data reopen with units."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import qdthermo as qd
from qdthermo.cli import main
from qdthermo.paper.claims import PaperData, evaluate
from qdthermo.paper.config import QUICK, PaperConfig
from qdthermo.paper.pipeline import PaperRun, build_config

FIGURES = ("fig1_levels", "fig3_force_plane", "fig4_one_force", "fig5_icc_regions", "devices", "conditions",
           "icc_edges", "fluctuations_icc", "design_icc")
DATA = ("fig1_levels", "fig3_force_plane", "fig4_one_force", "fig5_icc_regions", "devices", "conditions",
        "random_scan", "icc_edges", "fluctuations_icc", "design_icc")
CLAIMS = ("1a", "1b", "1c", "2", "3", "4a", "4b", "4c", "5a", "5b", "5c", "6a", "6b", "6c", "7a", "7b", "8", "9")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("paper")
    result = CliRunner().invoke(main, ["paper", "--out", str(out), "--quick"])
    return out, result


def test_quick_run_passes_every_claim(quick_run) -> None:  # type: ignore[no-untyped-def]
    out, result = quick_run
    assert result.exit_code == 0, result.output + str(result.exception)
    assert f"{len(CLAIMS)}/{len(CLAIMS)} claims PASS" in result.output
    for key in CLAIMS:
        assert f"[PASS] claim {key}:" in result.output
    assert "[FAIL]" not in result.output
    assert "qdthermo paper:" in result.stderr and "11/11" in result.stderr  # the progress bar


def test_report_lists_every_claim_with_evidence(quick_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = quick_run
    md = (out / "report.md").read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    for key in CLAIMS:
        assert f"### Claim {key}: PASS" in md
        assert f"Claim {key}: " in page
    assert "FAIL" not in md.replace("PASS or FAIL", "")
    assert "ALL CLAIMS PASS" in md and "ALL CLAIMS PASS" in page
    for stem in FIGURES:  # embedded in both reports
        assert f"({stem}.png)" in md
        assert f'src="{stem}.png"' in page
    assert "eps_L" in md and "x_values" in md  # the parameters are listed


def test_report_html_keeps_exponents_and_maps_panels(quick_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = quick_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "10<strong>" not in page and "<em>(-" not in page
    assert "10**(-1 ... 0.7)" in page and "10**(-2 ... 2)" in page  # the random-scan ranges survive
    assert '<td class="PASS">PASS</td>' in page and "<table>" in page
    assert "FIG. 1(c)" in page and "FIG. 5(b)" in page  # the panel map to the paper's letters


def test_markdown_is_rendered_by_a_library() -> None:
    from qdthermo.paper.report import _esc, _html

    page = _html("- " + _esc("T_b: 10**(-1 ... 0.7), x*(eps_R) <= 2 and [a] `b`") + "\n\n**bold**\n", "t")
    assert "10**(-1 ... 0.7), x*(eps_R) &lt;= 2 and [a] `b`" in page
    assert "<strong>bold</strong>" in page and "<ul>" in page


@pytest.mark.parametrize("stem", FIGURES)
def test_figures_exist_and_are_not_blank(quick_run, stem: str) -> None:  # type: ignore[no-untyped-def]
    import matplotlib.image as mpimg

    out, _ = quick_run
    img = mpimg.imread(out / f"{stem}.png")
    rgb = img[..., :3]
    assert rgb.std() > 0.05
    assert (rgb.min(axis=-1) < 0.9).mean() > 0.02  # more than a few pixels are not white
    svg = (out / f"{stem}.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count("<path") + svg.count("<image") > 20
    assert "Parameters: eps_L = 1" in svg  # the parameters are stated on the figure


@pytest.mark.parametrize("stem", DATA)
def test_data_reopen_with_units(quick_run, stem: str) -> None:  # type: ignore[no-untyped-def]
    out, _ = quick_run
    with xr.open_dataset(out / f"{stem}.nc") as ds:
        assert ds.data_vars
        for name, var in ds.variables.items():
            if var.dtype.kind in "fiu" or name in ds.data_vars:
                assert "units" in var.attrs, f"{stem}.nc: {name} has no units"
                assert "long_name" in var.attrs or name in ds.dims
        assert ds.attrs["config_quick"] == 1
        assert "k_B = hbar = e = 1" in ds.attrs["units_convention"]


def test_config_file_reproduces_the_run(quick_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = quick_run
    assert build_config(config_file=out / "config.toml") == PaperConfig().replace(**QUICK)
    assert build_config(True, out / "config.toml", ["eps_R=0.5"]).eps_R == 0.5


# --------------------------------------------------------------- parameters
def test_overrides_and_print_config(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text("[paper]\nx_values = [3, -1.5]\nn_plane = 31\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["paper", "--quick", "--config", str(toml), "--set", "eps_R=0.5",
                                  "--set", "n_plane=21", "--print-config"])
    assert r.exit_code == 0, r.output
    assert "x_values = [3.0, -1.5]" in r.output
    assert "n_plane = 21" in r.output  # --set wins over the file
    assert "eps_R = 0.5" in r.output and "quick = true" in r.output


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--set", "nosuch=1"], "nosuch"),
        (["--set", "fe_max=5"], "fe_max"),
        (["--set", "n_plane=abc"], "n_plane"),
        (["--set", "x_values=[1, nan]"], "x_values"),
        (["--set", "eps_L"], "name=value"),
        (["--set", "gamma=-1"], "gamma"),
    ],
)
def test_bad_parameter_is_a_named_error(tmp_path: Path, args: list[str], name: str) -> None:
    r = CliRunner().invoke(main, ["paper", "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2
    assert name in r.output and "--set" in r.output
    assert not (tmp_path / "o").exists()


def test_bad_config_file_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("eps_R = 'high'\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["paper", "--config", str(bad)])
    assert r.exit_code == 2 and "eps_R" in r.output and "--config" in r.output
    r = CliRunner().invoke(main, ["paper", "--config", str(tmp_path / "missing.toml")])
    assert r.exit_code == 2 and "missing.toml" in r.output


def test_failing_claim_gives_exit_code_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qdthermo.paper import pipeline
    from qdthermo.paper.claims import Claim

    def fake_run(cfg, out, **kw):  # type: ignore[no-untyped-def]
        claims = [Claim("1a", "ok", True, ("n = 1",)), Claim("6a", "bad", False, ("ICC at x > 0: 3",))]
        return PaperRun(cfg=cfg, claims=claims, notes=[], files=[], timings={})

    monkeypatch.setattr(pipeline, "run", fake_run)
    r = CliRunner().invoke(main, ["paper", "--out", str(tmp_path), "--quick"])
    assert r.exit_code == 1
    assert "[FAIL] claim 6a" in r.output and "FAILED: 6a" in r.output


# ------------------------------------------- verdicts come from the data
def _data(out: Path) -> PaperData:
    load = lambda stem: xr.load_dataset(out / f"{stem}.nc")  # noqa: E731
    clean = {"n_points": 10.0, "sigma_min": 0.0, "n_sigma_negative": 0.0, "sigma_micro_macro": 0.0,
             "sigma_forces_fluxes": 0.0, "force_micro_macro": 0.0, "force_micro_skipped": 0.0,
             "force_micro_nan": 0.0, "JN_r": 0.0, "energy_residual": 0.0, "particle_residual": 0.0}
    return PaperData(cfg=PaperConfig().replace(**QUICK), levels=load("fig1_levels"), plane=load("fig3_force_plane"),
                     cuts=load("fig4_one_force"), icc=load("fig5_icc_regions"), devices=load("devices"),
                     conditions=load("conditions"), random=load("random_scan"), diagnostics={"batch": clean},
                     fluctuations=load("fluctuations_icc"), edges=load("icc_edges"), design=load("design_icc"))


def _verdicts(data: PaperData) -> dict[str, bool]:
    return {c.key: c.passed for c in evaluate(data)[0]}


def test_claims_are_computed_from_the_data(quick_run) -> None:  # type: ignore[no-untyped-def]
    out, _ = quick_run
    data = _data(out)
    assert all(_verdicts(data).values())

    # an ICC point at x > 0 in the random scan breaks claim 6a only
    rnd = data.random.copy(deep=True)
    k = int(np.flatnonzero(rnd["x"].values > 0)[0])
    rnd["regime_J_N"].values[k] = qd.Regime.ICC
    v = _verdicts(dataclasses.replace(data, random=rnd))
    assert not v["6a"] and v["6c"] and v["1a"]

    # an optimised engine above Carnot breaks claim 9 only
    des = data.design.copy(deep=True)
    des["efficiency_at_max"].values[0, 0] = 2 * float(des["carnot_at_max"].values[0, 0])
    v = _verdicts(dataclasses.replace(data, design=des))
    assert not v["9"] and v["8"]

    # a TUR ratio below 2 breaks claim 8 only
    fl = data.fluctuations.copy(deep=True)
    fl["tur_J_N"].values[-1, 3, 3] = 1.5
    v = _verdicts(dataclasses.replace(data, fluctuations=fl))
    assert not v["8"] and v["7a"]

    # a point above Carnot breaks claim 7a
    dev = data.devices.copy(deep=True)
    eff = dev["efficiency_over_carnot"].values
    eff[np.isfinite(eff)] = 1.01
    assert not _verdicts(dataclasses.replace(data, devices=dev))["7a"]

    # J_N < 0 at F_N = 0 for x > 0 breaks claim 4b
    cuts = data.cuts.copy(deep=True)
    cuts["J_N_at_FN0"].values[0, 5] = -1e-3
    assert not _verdicts(dataclasses.replace(data, cuts=cuts))["4b"]

    # claim 6b is decided on the bisected edges: an edge left of x0, or grid ICC right of an edge, breaks it
    edges = data.edges.copy(deep=True)
    edges["edge"].loc[{"eps_R": 0.0, "flux": "J_E", "quadrant": "Q1", "k": 0}] = -0.6  # x0(0) = -0.4418
    v = _verdicts(dataclasses.replace(data, edges=edges))
    assert not v["6b"] and v["6a"] and v["6c"]
    cond = data.conditions.copy(deep=True)
    cond["n_icc_J_E"].values[:] = 0  # the grid scan alone no longer decides 6b
    assert _verdicts(dataclasses.replace(data, conditions=cond))["6b"]
    cond["n_icc_J_N"].values[:, cond["x"].values > -0.4] = 1  # ICC right of the edge at eps_R = 0
    assert not _verdicts(dataclasses.replace(data, conditions=cond))["6b"]

    # a negative entropy production breaks claim 1a
    bad = dict(data.diagnostics["batch"], sigma_min=-1e-6, n_sigma_negative=1.0)
    assert not _verdicts(dataclasses.replace(data, diagnostics={"batch": bad}))["1a"]


def test_force_windows_follow_the_temperature() -> None:
    # F~_E < eps_L/T_b keeps T_t finite: windows not given scale with eps_L/T_b, explicit ones are checked
    cfg = build_config(overrides=["T_b=2"])
    assert (cfg.fe_max, cfg.quad_fe, cfg.line_fe_max) == (0.45, 0.45, 0.475)
    assert build_config(overrides=["T_b=2", "fe_max=0.3"]).fe_max == 0.3
    with pytest.raises(ValueError, match="fe_max"):
        build_config(overrides=["T_b=2", "fe_max=0.7"])


# ------------------------------------------------ atomic output (issue 15 item 1)
def _old_output(folder: Path) -> dict[str, str]:
    folder.mkdir()
    files = {"report.md": "ALL CLAIMS PASS (old)", "config.toml": "eps_R = 1.0\n", "fig4_one_force.svg": "<svg/>"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return files


def test_interrupted_run_leaves_the_old_output_intact(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qdthermo.paper import pipeline

    out = tmp_path / "out"
    old = _old_output(out)

    def boom(cfg, data):  # type: ignore[no-untyped-def]
        assert (cfg.eps_R, sorted(data)) == (0.5, ["levels"])  # mid-pipeline: FIG. 1 is already written
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "STEPS", [pipeline.STEPS[0], pipeline.Step("boom", boom, {})])
    r = CliRunner().invoke(main, ["paper", "--out", str(out), "--quick", "--set", "eps_R=0.5", "--no-progress"])
    assert r.exit_code != 0
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == old  # nothing new, nothing lost
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left behind


def test_finished_run_replaces_the_whole_folder(tmp_path: Path) -> None:
    from qdthermo.paper.pipeline import _atomic_folder

    out = tmp_path / "out"
    _old_output(out)
    with _atomic_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out
        (tmp / "report.md").write_text("new", encoding="utf-8")
        assert (out / "fig4_one_force.svg").exists()  # the old output stays until the end
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]  # no stale file of the old run
    assert (out / "report.md").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_that_is_not_a_paper_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    r = CliRunner().invoke(main, ["paper", "--out", str(tmp_path), "--quick", "--no-progress"])
    assert r.exit_code == 2 and "not an output of qdthermo paper" in r.output
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"


def test_figures_are_pure_functions_of_data(quick_run) -> None:  # type: ignore[no-untyped-def]
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from qdthermo.paper import pipeline

    out, _ = quick_run
    data = _data(out)
    datasets = {"levels": data.levels, "plane": data.plane, "cuts": data.cuts, "icc": data.icc,
                "devices": data.devices, "conditions": data.conditions, "fluctuations": data.fluctuations,
                "edges": data.edges, "design": data.design}
    before = dict(mpl.rcParams)
    n_open = len(plt.get_fignums())
    stems = []
    for step in pipeline.STEPS:
        for stem, key, plot in step.figures:
            fig = plot(datasets[key], data.cfg)
            assert isinstance(fig, Figure)
            stems.append(stem)
    assert stems == list(FIGURES)
    assert dict(mpl.rcParams) == before and len(plt.get_fignums()) == n_open  # no global state touched


# ------------------------------------------------ the figures one by one (issue 15 items 3, 12)
def _titles(fig) -> list[str]:  # type: ignore[no-untyped-def]
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def test_fig5_panels_are_lettered_once_and_norms_are_honest(quick_run) -> None:  # type: ignore[no-untyped-def]
    import re

    from matplotlib.colors import TwoSlopeNorm

    from qdthermo.paper import fig5

    out, _ = quick_run
    data = _data(out)
    fig = fig5.plot(data.icc, data.cfg)
    letters = [re.match(r"\((\w+)\)", t).group(1) for t in _titles(fig) if t.startswith("(")]  # type: ignore[union-attr]
    n = data.icc.sizes["x"]
    assert sorted(letters) == sorted(f"{r}{k + 1}" for r in "abc" for k in range(n))
    labels = [ax.get_ylabel() for ax in fig.axes if "white = 0" in ax.get_ylabel()]
    assert len(labels) == 2 * n  # every colour bar says where zero is and how it is scaled
    # symmetric when both signs are comparable; two slopes only with the stretch stated; round-off is zero
    norm, words = fig5._norm(np.array([-0.5, 1.0]))
    assert (norm.vmin, norm.vmax, words) == (-1.0, 1.0, "symmetric scale, white = 0")
    norm, words = fig5._norm(np.array([-0.021, 0.31]))
    assert isinstance(norm, TwoSlopeNorm) and "stretched x15" in words
    from qdthermo.plot.palette import clean_round_off

    assert clean_round_off(np.array([-1e-17, 0.3]))[0] == 0.0
    assert "no value < 0" in fig5._norm(clean_round_off(np.array([-1e-17, 0.3])))[1]


def test_fig1_labels_clear_the_mu_line_and_fig3_titles_match(quick_run) -> None:  # type: ignore[no-untyped-def]
    from qdthermo.paper import fig1, fig3

    out, _ = quick_run
    data = _data(out)
    span = 4.0
    assert abs(fig1._label_height(1.0, -1.0, 0.0, span)) > 0.08 * span  # w43 at x = -2 is off mu_b = 0
    assert fig1._label_height(0.0, 1.0, 5.0, span) == 0.5
    titles = _titles(fig3.plot(data.plane, data.cfg))
    assert all("thick: F~_E = 0" in t for t in titles if "regime of J_E" in t)
    assert all("thick: F_N = 0" in t for t in titles if "regime of J_N" in t)


def test_conditions_legend_lists_only_what_is_drawn(quick_run) -> None:  # type: ignore[no-untyped-def]
    from qdthermo.paper import conditions

    out, _ = quick_run
    data = _data(out)
    fig = conditions.plot(data.conditions, data.cfg)
    labels = [t.get_text() for t in fig.axes[2].get_legend().get_texts()]
    cond = data.conditions
    code = (cond["pseudo_icc_J_N"].values > 0).astype(int) + 2 * (cond["pseudo_icc_J_E"].values > 0).astype(int)
    for c, label in conditions.PSEUDO_LABELS.items():
        assert (label in labels) == bool((code == c).any())
    for ax in fig.axes[:2]:
        assert all(t.get_fontsize() >= 9 for t in ax.get_legend().get_texts())


@pytest.mark.parametrize("eps_R", [0.0, 0.5])
def test_sufficiency_note_never_contradicts_itself(eps_R: float) -> None:
    """The note states bisected edges at the figures' eps_R; the ICC-free range starts at the larger one."""
    import re

    from qdthermo.paper import edges
    from qdthermo.paper.claims import _sufficiency_note

    cfg = PaperConfig().replace(**QUICK).replace(eps_R=eps_R, cond_eps_R=(0.0, 2.0), n_edge_eps_R=5)
    ds = edges.compute(cfg)
    note = _sufficiency_note(cfg, ds)
    here = note.split(f"At the figures' eps_R = {eps_R:g} with both forces > 0: ")[1]
    got = {f: float(re.search(rf"ICC in {f} for x < (-?[0-9.]+)", here).group(1)) for f in ("J_N", "J_E")}
    free = float(re.search(r"neither flux shows ICC for (-?[0-9.]+) < x < 0", here).group(1))
    assert free == max(got.values())
    x0 = float(ds["x0"].sel(eps_R=eps_R))
    assert all(v >= x0 - 1e-4 for v in got.values())
    assert f"(x0 = {x0:.4f})" in here and "x <= -0.45" not in note
