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

FIGURES = ("fig1_levels", "fig3_force_plane", "fig4_one_force", "fig5_icc_regions", "devices", "conditions")
DATA = ("fig1_levels", "fig3_force_plane", "fig4_one_force", "fig5_icc_regions", "devices", "conditions",
        "random_scan")
CLAIMS = ("1a", "1b", "1c", "2", "3", "4a", "4b", "4c", "5a", "5b", "5c", "6a", "6b", "6c", "7a", "7b")


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
    assert "qdthermo paper:" in result.stderr and "8/8" in result.stderr  # the progress bar


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
                     conditions=load("conditions"), random=load("random_scan"), diagnostics={"batch": clean})


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

    # a point above Carnot breaks claim 7a
    dev = data.devices.copy(deep=True)
    eff = dev["efficiency_over_carnot"].values
    eff[np.isfinite(eff)] = 1.01
    assert not _verdicts(dataclasses.replace(data, devices=dev))["7a"]

    # J_N < 0 at F_N = 0 for x > 0 breaks claim 4b
    cuts = data.cuts.copy(deep=True)
    cuts["J_N_at_FN0"].values[0, 5] = -1e-3
    assert not _verdicts(dataclasses.replace(data, cuts=cuts))["4b"]

    # no genuine ICC in J_E for x < 0 in the scan breaks claim 6b (both the window and the probes must miss it)
    cond = data.conditions.copy(deep=True)
    cond["n_icc_J_E"].values[:] = 0
    assert _verdicts(dataclasses.replace(data, conditions=cond))["6b"]
    cond["probe_icc_J_E"].values[:] = 0
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
