"""The command line: ``qdthermo point`` and ``qdthermo info``."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

import qdthermo as qd
from qdthermo.cli import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def run_json(*args: str) -> dict[str, Any]:
    result = run("point", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_usage_error(result: Result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), "expected a click error, not a traceback"
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


BASE = ("--set", "eps_L=1.0", "--set", "eps_R=0.5", "--set", "U=0.8", "--set", "J=2.0")


def test_point_with_options_prints_tables() -> None:
    result = run("point", *BASE, "--set", "T_t=2.0", "--set", "mu_t=0.1")
    assert result.exit_code == 0, result.output
    out = result.output
    for section in ("Populations", "Currents", "Thermodynamics", "Forces and fluxes", "Regimes", "Performance"):
        assert section in out
    for word in ("entropy production (micro", "entropy production (macro", "entropy flow", "F_E", "J_N",
                 "power", "efficiency", "carnot_efficiency", "cooling_power", "cop", "carnot_cop"):
        assert word in out
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.8, J=2.0, T={"t": 2.0, "b": 1.0, "r": 1.0},
                                     mu={"t": 0.1, "b": 0.0, "r": 0.0}))
    pop_lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()[:2] in
                 ("00", "10", "01", "11") and len(line.split()) == 3}
    for k, label in enumerate(res.state_labels):
        assert float(pop_lines[label][2]) == pytest.approx(float(res.populations[k]), rel=1e-9)
    regime = {qd.Regime(int(v)).name for v in res.regime.values()}
    assert all(name in out for name in regime)
    # aligned: every row of the currents table has the same length as its header underline
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Currents"))
    header, rule, *rows = lines[start + 1:start + 6]
    assert set(rule.strip()) <= {"-", " "}
    assert all(len(r) == len(rule) for r in rows)


def test_point_json_equals_solve() -> None:
    data = run_json(*BASE, "--set", "T_t=2.0", "--set", "mu_t=0.1", "--set", "gamma_b=0.5")
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.8, J=2.0, T={"t": 2.0, "b": 1.0, "r": 1.0},
                                     mu={"t": 0.1, "b": 0.0, "r": 0.0}, gamma={"t": 1.0, "b": 0.5, "r": 1.0}))
    assert data["particle_current"]["t"] == pytest.approx(float(res.particle_current["t"]), rel=1e-14)
    for lead in "tbr":
        assert data["energy_current"][lead] == pytest.approx(float(res.energy_current[lead]), rel=1e-14, abs=1e-17)
        assert data["heat_current"][lead] == pytest.approx(float(res.heat_current[lead]), rel=1e-14, abs=1e-17)
    assert list(data["populations"]) == ["00", "10", "01", "11"]
    np.testing.assert_allclose(list(data["populations"].values()), res.populations, rtol=1e-14)
    assert data["entropy_production"] == pytest.approx(float(res.entropy_production), rel=1e-14)
    assert data["entropy_production_macro"] == pytest.approx(float(res.entropy_production_macro), rel=1e-12)
    assert data["entropy_flow"] == pytest.approx(float(res.entropy_flow), rel=1e-12)
    assert set(data["forces"]) == {"F_E", "F_R", "F_N"} and set(data["fluxes"]) == {"J_E", "J_R", "J_N"}
    assert data["regime"] == {k: qd.Regime(int(v)).name for k, v in res.regime.items()}
    assert set(data["performance"]) == {"power", "efficiency", "carnot_efficiency", "cooling_power", "cop",
                                        "carnot_cop"}
    # NaN (an undefined efficiency/COP) is null, and the output is strict JSON
    perf = res.performance
    for name in ("efficiency", "cop"):
        value = float(getattr(perf, name))
        assert (data["performance"][name] is None) == np.isnan(value)
    assert data["parameters"]["T_t"] == 2.0 and data["parameters"]["T_b"] == 1.0


def test_point_from_toml_file_with_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "point.toml"
    cfg.write_text(
        'preset = "three_terminal"\n'
        "eps_L = 1.0\neps_R = 0.5\nU = 0.8\nJ = 2.0\n"
        "[T]\nt = 2.0\nb = 1.0\nr = 1.5\n"
        "[mu]\nt = 0.2\nb = 0.0\nr = 0.0\n"
        "[gamma]\nb = 1.0\nr = 0.7\n"
        '[gamma.t]\n"1->2" = 1.2\n"3->4" = 0.3\n',
        encoding="utf-8",
    )
    data = run_json("--config", str(cfg))
    gamma = {("t", "1->2"): 1.2, ("t", "3->4"): 0.3, "b": 1.0, "r": 0.7}
    T = {"t": 2.0, "b": 1.0, "r": 1.5}
    mu = {"t": 0.2, "b": 0.0, "r": 0.0}
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.8, J=2.0, T=T, mu=mu, gamma=gamma))
    assert data["particle_current"]["t"] == pytest.approx(float(res.particle_current["t"]), rel=1e-14)
    # --param overrides the file, dotted entries only their lead
    data = run_json("-c", str(cfg), "--set", "U=0.1", "--set", "T_b=0.5", "--set", "gamma_t[3->4]=0.9",
                    "--method", "linear")
    res = qd.solve(qd.three_terminal(1.0, 0.5, U=0.1, J=2.0, T={**T, "b": 0.5}, mu=mu,
                                     gamma={**gamma, ("t", "3->4"): 0.9}), method="linear")
    assert data["method"] == "linear"
    assert data["particle_current"]["t"] == pytest.approx(float(res.particle_current["t"]), rel=1e-14)
    assert data["parameters"]["U"] == 0.1 and data["parameters"]["T_r"] == 1.5


@pytest.mark.parametrize(
    ("preset", "args", "build"),
    [
        ("coupled_transport", ("--set", "F_E=0.3", "--set", "F_N=-0.2", "--set", "U=0.2", "--set", "J=8"),
         lambda: qd.coupled_transport(0.3, -0.2, U=0.2, J=8.0)),
        ("single_dot", ("--set", "eps=0.4", "--set", "T_L=3", "--set", "mu_R=0.5"),
         lambda: qd.single_dot(0.4, T={"L": 3.0, "R": 1.0}, mu={"L": 0.0, "R": 0.5})),
        ("sanchez_buttiker", ("--set", "eps_L=0", "--set", "eps_R=0", "--set", "U=1", "--set", "asymmetry=1",
                              "--set", "V=-0.1"),
         lambda: qd.sanchez_buttiker(0.0, 0.0, 1.0, V=-0.1, asymmetry=1.0)),
    ],
)
def test_point_other_presets(preset: str, args: tuple[str, ...], build: Any) -> None:
    data = run_json("--preset", preset, *args)
    res = qd.solve(build())
    lead = res.lead_names[0]
    assert data["preset"] == preset
    assert data["particle_current"][lead] == pytest.approx(float(res.particle_current[lead]), rel=1e-13)
    assert data["entropy_production"] >= 0
    text = run("point", "--preset", preset, *args)
    assert text.exit_code == 0, text.output


def test_coupled_transport_reports_derived_parameters() -> None:
    data = run_json("--preset", "coupled_transport", "--set", "F_E=0.5", "--set", "F_N=0", "--set", "J=8")
    assert data["derived"]["T_t"] == pytest.approx(2.0)
    assert data["derived"]["x"] == pytest.approx(-1.0)
    assert data["temperature"]["t"] == pytest.approx(2.0)


_BAD_INPUT = [
    (("--set", "foo=1"), ["foo", "unknown parameter", "eps_L", "T_t"]),
    (("--set", "eps_R=abc"), ["eps_R", "'abc'", "number"]),
    (("--set", "eps_R"), ["eps_R", "NAME=VALUE"]),
    (("--set", "T_x=2"), ["T_x", "'x'", "allowed leads", "T_t, T_b, T_r"]),
    (("--set", "T_t=-1"), ["T_t = -1.0", "0 < T_t < inf"]),
    (("--set", "gamma_r=nan"), ["gamma_r = nan", "finite"]),
    (("--set", "T_t=nan"), ["T_t = nan: must be a finite number"]),
    (("--set", "U_t=1"), ["U_t", "one number"]),
    (("--set", "J=-3"), ["J = -3.0", "non-negative", "0 <= J < inf"]),
    (("--set", "reference_lead=x"), ["reference_lead = 'x'", "t, b, r"]),
    (("--method", "newton"), ["newton", "--method"]),
    (("--preset", "nope"), ["nope", "--preset"]),
]
#: the old -p spellings keep working, with the same errors
_BAD_LEGACY = [
    (("-p", "foo=1"), ["foo", "unknown parameter", "eps_L"]),
    (("-p", "eps_R=abc"), ["eps_R", "'abc'", "number"]),
    (("-p", "eps_R"), ["eps_R", "NAME=VALUE"]),
    (("-p", "T.x=2"), ["T", "'x'", "allowed leads"]),
    (("-p", "T.t=-1"), ["T_t", "-1.0", "0 <"]),
    (("-p", "gamma.r=nan"), ["gamma_r", "nan", "finite"]),
    (("-p", "T.t=nan"), ["T_t = nan: must be a finite number"]),
    (("-p", "U.t=1"), ["U.t", "one number"]),
    (("-p", "J=-3"), ["J ", "-3.0", "non-negative"]),
]


@pytest.mark.parametrize(("args", "fragments"), _BAD_INPUT + _BAD_LEGACY)
def test_point_bad_input_is_a_clean_error(args: tuple[str, ...], fragments: list[str]) -> None:
    result = run("point", "--set", "eps_L=1", "--set", "eps_R=1", *args)
    assert_usage_error(result, *fragments)
    assert "allowed range -inf" not in result.output and "np.float64" not in result.output
    assert "Traceback" not in result.output


def test_point_errors_are_one_line() -> None:
    result = run("point", "--set", "eps_L=1", "--set", "eps_R=1", "--set", "T_t=-1")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: T_t = -1.0: must be positive (allowed range: 0 < T_t < inf)"]


def test_point_old_spelling_works_with_a_deprecation_note() -> None:
    new = run("point", "--json", *BASE, "--set", "T_t=2.0", "--set", "gamma_t[3->4]=0.2")
    old = run("point", "--json", "-p", "eps_L=1.0", "-p", "eps_R=0.5", "-p", "U=0.8", "-p", "J=2.0",
              "-p", "T.t=2.0", "-p", "gamma.t.3->4=0.2")
    assert new.exit_code == 0 and old.exit_code == 0, old.output
    assert json.loads(old.stdout) == json.loads(new.stdout)
    assert "Deprecated" in old.stderr and "--set T_t=2.0" in old.stderr and "--set gamma_t[3->4]=0.2" in old.stderr
    assert old.stderr.count("\n") == 1 and new.stderr == ""


def test_partial_lead_tables_take_the_preset_default(tmp_path: Path) -> None:
    cfg = tmp_path / "partial.toml"
    cfg.write_text("eps_L = 1.0\neps_R = 0.5\n[mu]\nt = 0.3\n[T]\nt = 2.0\n", encoding="utf-8")
    data = run_json("-c", str(cfg))
    res = qd.solve(qd.three_terminal(1.0, 0.5, T={"t": 2.0, "b": 1.0, "r": 1.0}, mu={"t": 0.3, "b": 0.0, "r": 0.0}))
    assert data["particle_current"]["t"] == pytest.approx(float(res.particle_current["t"]), rel=1e-14)
    assert data["parameters"]["mu_b"] == 0.0 and data["parameters"]["T_r"] == 1.0


def test_point_config_with_a_parameters_table(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text('preset = "single_dot"\nmethod = "linear"\n[parameters]\neps = 0.4\nT_L = 3.0\n', encoding="utf-8")
    data = run_json("-c", str(cfg))
    res = qd.solve(qd.single_dot(0.4, T={"L": 3.0, "R": 1.0}), method="linear")
    assert data["particle_current"]["L"] == pytest.approx(float(res.particle_current["L"]), rel=1e-14)
    cfg.write_text('preset = "single_dot"\neps = 0.1\n[parameters]\neps = 0.4\n', encoding="utf-8")
    assert_usage_error(run("point", "-c", str(cfg)), "'eps' is given both")


def test_presets_command_lists_the_registry() -> None:
    result = run("presets")
    assert result.exit_code == 0
    for name in qd.model.presets.PRESETS:
        assert name in result.output
    result = run("presets", "sanchez_buttiker")
    assert result.exit_code == 0
    assert "-1 <= asymmetry <= 1" in result.output and "T_hot" in result.output
    result = run("presets", "three_terminal")
    assert "T_t, T_b, T_r" in result.output and "required" in result.output
    assert run("presets", "nope").exit_code == 1


def test_point_missing_and_preset_errors(tmp_path: Path) -> None:
    assert_usage_error(run("point", "--set", "eps_L=1"), "missing parameter(s) eps_R")
    assert_usage_error(run("point", "--preset", "coupled_transport", "--set", "F_E=2", "--set", "F_N=0"),
                       "F_E = 2.0", "F_E < 1/T_ref = 1.0")
    cfg = tmp_path / "bad.toml"
    cfg.write_text("eps_L = [1.0, 2.0]\neps_R = 1.0\n", encoding="utf-8")
    assert_usage_error(run("point", "-c", str(cfg)), "eps_L", "scalars only")
    cfg.write_text("eps_L = 1.0\neps_R = 1.0\nwhat = 3\n", encoding="utf-8")
    assert_usage_error(run("point", "-c", str(cfg)), "'what'", "unknown parameter")
    cfg.write_text("eps_L = 1.0\neps_R = \n", encoding="utf-8")
    assert_usage_error(run("point", "-c", str(cfg)), "not valid TOML")
    cfg.write_text("eps_L = 1.0\neps_R = 1.0\n[U]\nt = 1.0\n", encoding="utf-8")
    assert_usage_error(run("point", "-c", str(cfg)), "'U'", "not a table")
    assert_usage_error(run("point", "-c", str(tmp_path / "missing.toml")), "missing.toml")


def test_point_unsolvable_point_is_a_clean_error() -> None:
    result = run("point", "--set", "eps_L=1", "--set", "eps_R=1", "--set", "gamma_r=0")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "not unique" in result.output


def test_info_lists_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("info")
    assert result.exit_code == 0, result.output
    out = result.output
    assert qd.__version__ in out
    for name in ("python", "platform", "numpy", "scipy", "xarray", "zarr", "dask", "matplotlib", "click", "qutip"):
        assert any(line.split()[0] == name for line in out.splitlines() if line.strip()), name
    assert metadata.version("numpy") in out
    real = metadata.version

    def fake(dist: str) -> str:
        if dist == "qutip":
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(metadata, "version", fake)
    out = run("info").output
    assert [line for line in out.splitlines() if line.startswith("qutip")][0].endswith("not installed")


def test_version_and_help() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert qd.__version__ in result.output
    result = run("--help")
    assert result.exit_code == 0
    assert "point" in result.output and "info" in result.output
    assert run("point", "--help").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [("point", "--preset", "nope"), ("point", "--method", "x"), ("nosuch",), ("sweep", "missing.toml", "-o", "s"),
     ("sweep", "docs/examples/sweep.toml"), ("point", "--set", "eps_L=1", "--set", "eps_R=1", "--set", "T_t=nan")],
)
def test_every_error_is_one_error_line(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code in (1, 2) and isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output


def test_point_prints_counting_statistics() -> None:
    import json

    from click.testing import CliRunner

    from qdthermo.cli import main

    args = ["point", "--preset", "coupled_transport", "--set", "F_E=0.5", "--set", "F_N=0.25", "--set", "J=12",
            "--fluctuations", "--order", "3"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "Counting statistics" in out.output and "C3" in out.output
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    fl = data["fluctuations"]
    assert fl["N_r"]["C1"] == 0 and fl["N_r"]["fano"] is None  # one lead on dot R: nothing transferred
    assert fl["J_N"]["C1"] < 0 and fl["J_N"]["tur"] >= 2
    bad = CliRunner().invoke(main, [*args[:-2], "--order", "0"])
    assert bad.exit_code != 0 and "--order" in bad.output


def test_optimize_command_finds_the_maximum_power_point() -> None:
    import json

    from click.testing import CliRunner

    from qdthermo.cli import main

    args = ["optimize", "--preset", "single_dot", "--maximize", "power", "--vary", "eps=0:5", "--vary", "mu_L=-2:2",
            "--set", "T_L=1", "--set", "T_R=0.8", "--set", "mu_R=0", "--samples", "256", "--json"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    perf = data["performance"]
    assert data["value"] > 0 and perf["efficiency"] <= perf["carnot_efficiency"]
    # efficiency at maximum power of the single level: eta_C/2 + eta_C^2/8 + O(eta_C^3), eta_C = 0.2
    assert abs(perf["efficiency"] / perf["carnot_efficiency"] - (0.5 + 0.2 / 8)) < 0.01
    bad = CliRunner().invoke(main, [*args[:4], "powr", *args[5:]])
    assert bad.exit_code != 0 and "powr" in bad.output and "Traceback" not in bad.output
    onesided = CliRunner().invoke(main, [*args[:6], "eps=0:", *args[7:]])
    assert onesided.exit_code != 0 and "needs both ends" in onesided.output


def test_point_prints_round_off_currents_as_zero() -> None:
    import json

    from click.testing import CliRunner

    from qdthermo.cli import main

    out = CliRunner().invoke(main, ["point", "--preset", "three_terminal", "--set", "eps_L=1", "--set", "eps_R=1",
                                    "--set", "U=0.5", "--set", "T_t=2", "--json"])
    data = json.loads(out.output)
    assert data["particle_current"]["r"] == 0.0  # one lead on dot R: exactly zero, not 3e-17
    assert data["particle_current"]["t"] > 0 and data["energy_current"]["r"] < 0
