"""qd.fluctuations: analytic limits, mean currents, TUR, fluctuation theorem, spectra, errors."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd

PAPER = dict(eps_L=1.0, eps_R=0.5, U=0.7, J=0.0, T={"t": 2.0, "b": 1.0, "r": 1.5},
             mu={"t": 0.3, "b": 0.0, "r": 0.1}, gamma={"t": 1.0, "b": 0.7, "r": 1.3})


@pytest.fixture(autouse=True, params=["compiled", "numpy"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test on both counting-statistics engines (``engine="auto"`` picks the compiled one)."""
    from qdthermo.kinetics import counting_compiled

    if request.param == "compiled" and not counting_compiled.available():
        pytest.skip("Numba is not available or disabled")
    if request.param == "numpy":
        monkeypatch.setattr(counting_compiled, "available", lambda: False)
    else:  # "auto" takes the compiled engine (and the fused solve) from this many points
        from qdthermo.kinetics import steady
        from qdthermo.thermo import counting_statistics

        monkeypatch.setattr(steady, "COMPILED_MIN_POINTS", 1)
        monkeypatch.setattr(counting_statistics, "COMPILED_MIN_POINTS", 1)
    return str(request.param)


def random_paper_device(n: int, seed: int = 0, decades: float = 1.0) -> qd.Device:
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        eps_L=rng.uniform(-2, 2, n), eps_R=rng.uniform(-2, 2, n), U=rng.uniform(0, 3, n), J=rng.uniform(0, 2, n),
        T={lead: 10 ** rng.uniform(-decades, decades, n) for lead in "tbr"},
        mu={lead: rng.uniform(-2, 2, n) for lead in "tbr"},
        gamma={lead: 10 ** rng.uniform(-1, 1, n) for lead in "tbr"})


@pytest.mark.parametrize(("gL", "gR"), [(1.0, 1.0), (0.3, 2.0), (5.0, 0.1)])
def test_single_resonant_level_unidirectional(gL: float, gR: float) -> None:
    device = qd.single_dot(eps=0.0, T={"L": 1.0, "R": 1.0}, mu={"L": 60.0, "R": -60.0}, gamma={"L": gL, "R": gR})
    fl = qd.fluctuations(device, order=3, counting=["N_R", "N_L"])
    I = gL * gR / (gL + gR)
    F2 = (gL**2 + gR**2) / (gL + gR) ** 2
    F3 = 1 - 6 * gL * gR * (gL**2 + gR**2) / (gL + gR) ** 4
    np.testing.assert_allclose(fl.cumulant(1, "N_L"), I, rtol=1e-12)
    np.testing.assert_allclose(fl.cumulant(1, "N_R"), -I, rtol=1e-12)
    np.testing.assert_allclose(fl.cumulant(2, "N_R"), F2 * I, rtol=1e-12)
    np.testing.assert_allclose(fl.fano["N_R"], F2, rtol=1e-12)
    np.testing.assert_allclose(fl.cumulant(3, "N_L"), F3 * I, rtol=1e-10)
    np.testing.assert_allclose(fl.cumulant(3, "N_R"), -F3 * I, rtol=1e-10)
    np.testing.assert_allclose(fl.covariance("N_L", "N_R"), -F2 * I, rtol=1e-12)


def test_first_cumulants_are_the_mean_currents() -> None:
    device = random_paper_device(200, seed=1)
    fl = qd.fluctuations(device, order=1)
    res = fl.result
    for lead in "tbr":
        np.testing.assert_allclose(fl.cumulant(1, f"N_{lead}"), res.particle_current[lead], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(fl.cumulant(1, f"E_{lead}"), res.energy_current[lead], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(fl.cumulant(1, f"Q_{lead}"), res.heat_current[lead], rtol=1e-10, atol=1e-14)
    for name in ("J_E", "J_R", "J_N"):
        np.testing.assert_allclose(fl.cumulant(1, name), res.fluxes[name], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fl.cumulant(1, "entropy"), res.entropy_production, rtol=1e-9, atol=1e-14)


def test_thermodynamic_uncertainty_relation_on_random_points() -> None:
    fl = qd.fluctuations(random_paper_device(20000, seed=2), order=2,
                         counting=["N_t", "N_b", "E_t", "E_b", "Q_r", "J_E", "J_R", "J_N"])  # N_r = 0: one lead
    for name, ratio in fl.tur.items():
        finite = np.isfinite(ratio)
        assert finite.mean() > 0.99, name
        assert np.all(ratio[finite] >= 2 * (1 - 1e-8)), (name, ratio[finite].min())


def test_tur_saturates_near_equilibrium() -> None:
    device = qd.coupled_transport(F_E=0.0, F_N=np.array([1e-3, 1e-4]), eps_L=1.0, eps_R=1.0, U=1.0, J=0.0, T_ref=1.0)
    fl = qd.fluctuations(device, order=2, counting=["J_N"])
    # one force: J_N = L F, C2 = 2 L, Sigma = L F^2 -> ratio 2 (1 + O(F))
    np.testing.assert_allclose(fl.tur["J_N"], 2.0, rtol=1e-2)
    assert abs(fl.tur["J_N"][1] - 2) < abs(fl.tur["J_N"][0] - 2)


def test_gallavotti_cohen_symmetry_of_the_joint_cgf() -> None:
    rng = np.random.default_rng(3)
    device = random_paper_device(50, seed=4, decades=0.3)  # moderate forces: eigenvalues of e^{F d} tilts
    fl = qd.fluctuations(device, order=1, counting=["J_E", "J_R", "J_N"])
    F = fl.result.forces
    chi = {name: rng.uniform(-0.4, 0.4, 50) for name in ("J_E", "J_R", "J_N")}
    mirrored = {name: -chi[name] + 1j * F["F" + name[1:]] for name in chi}
    np.testing.assert_allclose(fl.cgf(chi), fl.cgf(mirrored), rtol=1e-8, atol=1e-12)
    # and for the entropy alone: lambda(chi) = lambda(i - chi)
    s = rng.uniform(-0.5, 0.5, 50)
    np.testing.assert_allclose(fl.cgf({"entropy": s}), fl.cgf({"entropy": 1j - s}), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fl.cgf({"entropy": np.zeros(50)}), 0.0, atol=1e-12)


def test_noise_spectrum_limits() -> None:
    fl = qd.fluctuations(qd.three_terminal(**PAPER), order=2, counting=["N_t", "E_r"])
    S = fl.noise_spectrum("N_t", np.array([0.0, 1e7]))
    np.testing.assert_allclose(S[0], fl.cumulant(2, "N_t"), rtol=1e-10)
    schottky = fl.noise_spectrum("N_t", np.array([1e9]))[0]
    np.testing.assert_allclose(S[1], schottky, rtol=1e-6)
    assert schottky > 0
    np.testing.assert_allclose(fl.noise_spectrum("N_t", 0.0, "E_r"), fl.covariance("N_t", "E_r"), rtol=1e-10)


def test_batch_shape_and_dataset() -> None:
    device = qd.three_terminal(**{**PAPER, "eps_L": np.linspace(-1, 1, 6).reshape(2, 3)})
    fl = qd.fluctuations(device, order=3)
    assert fl.cumulant(3, "J_N").shape == (2, 3)
    ds = fl.to_xarray(dims=("a", "b"))
    assert ds["C2"].dims == ("a", "b", "counted") and "entropy" in list(ds.counted.values)
    assert ds["C2"].attrs["units"] and ds["fano"].attrs["long_name"]


def test_invalid_points_are_nan_in_every_statistic() -> None:
    """A point without a unique steady state (lead r uncoupled: the right dot can never change) is NaN in the
    cumulants, the noise spectrum and the CGF (whose top eigenvalue over several closed classes means nothing)."""
    dev = qd.three_terminal(**{**PAPER, "gamma": {"t": 1.0, "b": 1.0, "r": np.array([1.0, 0.0])}})
    with pytest.warns(qd.InvalidPointsWarning):
        fl = qd.fluctuations(dev, order=2)
    assert list(fl.result.valid) == [True, False]
    for value in (fl.cumulant(1, "N_t"), fl.noise_spectrum("N_t", 1.0), fl.cgf({"N_t": -0.5j}),
                  fl.cgf({"N_t": np.array([[-0.5j], [0.1]])})[1]):
        assert np.isfinite(value[0]) and np.isnan(value[1])


def test_bad_input_is_named() -> None:
    device = qd.three_terminal(**PAPER)
    with pytest.raises(ValueError, match="order must be an integer >= 1"):
        qd.fluctuations(device, order=0)
    with pytest.raises(ValueError, match="unknown counted quantity.*N_x"):
        qd.fluctuations(device, counting=["N_x"])
    fl = qd.fluctuations(device, order=2)
    with pytest.raises(ValueError, match="unknown counted quantity 'E_q'"):
        fl.cumulant(2, "E_q")
    with pytest.raises(ValueError, match="finite"):
        fl.cgf({"N_t": np.nan})
    with pytest.raises(ValueError, match="omega"):
        fl.noise_spectrum("N_t", np.array([np.inf]))


def test_sweeps_store_second_order_statistics_when_registered() -> None:
    from qdthermo.thermo.counting_statistics import register_observables, unregister_observables

    register_observables(counting=["J_E", "J_N"])
    try:
        F_N = np.array([0.1, 0.2])
        ds = qd.sweep(qd.coupled_transport, scheduler="serial", progress=False, F_E=0.3, F_N=F_N,
                      eps_L=1.0, eps_R=1.0, U=1.0, J=0.0, T_ref=1.0)
        direct = qd.fluctuations(qd.coupled_transport(F_E=0.3, F_N=F_N, eps_L=1.0, eps_R=1.0, U=1.0, J=0.0,
                                                      T_ref=1.0), order=2, counting=["J_E", "J_N"])
        np.testing.assert_allclose(ds["noise_J_N"].values, direct.cumulant(2, "J_N"), rtol=1e-13)
        np.testing.assert_allclose(ds["tur_J_E"].values, direct.tur["J_E"], rtol=1e-13)
        assert ds["fano_J_N"].attrs["long_name"] == "Fano factor C2/|C1| of J_N"
    finally:
        unregister_observables()


def test_sparse_second_order_statistics_equal_the_dense_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import qdthermo.thermo.counting_statistics as F

    rng = np.random.default_rng(7)
    dev = qd.dot_array(6, levels=rng.uniform(-1, 1, 6), U_nn=rng.uniform(0.2, 1, 5), T=rng.uniform(0.5, 2, 12),
                       mu=rng.uniform(-0.5, 0.5, 12), gamma=rng.uniform(0.5, 1.5, 12), leads_per_dot=2)
    names = ["N_l0a", "E_l3b", "Q_l5a", "entropy"]
    dense = qd.fluctuations(dev, order=2, counting=names)
    monkeypatch.setattr(F, "SPARSE_MIN_STATES", 8)
    sparse = qd.fluctuations(dev, order=2, counting=names)
    for q in names:
        for k in (1, 2):
            np.testing.assert_allclose(sparse.cumulant(k, q), dense.cumulant(k, q), rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError, match="order 2 only"):
        qd.fluctuations(dev, order=3, counting=names).cumulant(3, "N_l0a")


def test_tur_on_a_large_dot_array() -> None:
    dev = qd.dot_array(12, levels=np.linspace(-1, 1, 12), U_nn=0.5, T=np.tile([2.0, 1.0], 12), mu=0.0, gamma=1.0,
                       leads_per_dot=2)
    fl = qd.fluctuations(dev, order=2, counting=["N_l0a", "E_l5b", "entropy"])
    assert fl.result.route.startswith("sparse")
    assert fl.tur["N_l0a"] >= 2 and fl.tur["E_l5b"] >= 2
    np.testing.assert_allclose(fl.cumulant(1, "entropy"), fl.result.entropy_production, rtol=1e-8)


def test_tur_at_a_million_random_points() -> None:
    """Sigma_dot C2 / C1^2 >= 2 for J_E and J_N at 10^6 random points of the paper's device (4 batches)."""
    n_checked = 0
    for seed in range(4):
        fl = qd.fluctuations(random_paper_device(250_000, seed=100 + seed), order=2, counting=["J_E", "J_N"])
        for name, ratio in fl.tur.items():
            finite = ratio[np.isfinite(ratio)]
            assert np.all(finite >= 2 * (1 - 1e-8)), (seed, name, finite.min())
            n_checked += finite.size
    assert n_checked > 1.9e6
