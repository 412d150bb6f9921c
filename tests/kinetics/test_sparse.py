"""Sparse steady-state routes on large networks (issue 12): agreement, factorisation, physics, residuals, memory."""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.kinetics.sparse import RESIDUAL_TOL, ConvergenceWarning
from qdthermo.model.arrays import array_bonds, dot_array
from qdthermo.model.device import Device, Dot, Interaction, Lead


def _random_device(n_dots: int, rng: np.random.Generator, batch: int) -> Device:
    """Random levels, temperatures, chemical potentials, couplings; random interaction graph; 1-2 leads per dot."""
    shape = (batch,) if batch > 1 else ()
    dots = [Dot(f"d{d}", rng.uniform(-1.5, 1.5, shape)) for d in range(n_dots)]
    leads = []
    for d in range(n_dots):
        for m in range(int(rng.integers(1, 3))):
            leads.append(Lead(f"l{d}{m}", f"d{d}", rng.uniform(0.3, 3.0, shape), rng.uniform(-1, 1, shape),
                              rng.uniform(0.1, 2.0, shape)))
    pairs = [(a, b) for a in range(n_dots) for b in range(a + 1, n_dots)]
    chosen = [p for p in pairs if rng.random() < min(1.0, 2.5 / max(n_dots - 1, 1))]
    inter = [Interaction((f"d{a}", f"d{b}"), rng.uniform(0.0, 2.0, shape)) for a, b in chosen]
    return Device(dots=tuple(dots), leads=tuple(leads), interactions=tuple(inter))


def _devices(n_dots: int, seed: int) -> list[Device]:
    rng = np.random.default_rng(seed)
    batch = 3 if n_dots <= 8 else 1
    out = [_random_device(n_dots, rng, batch)]
    if n_dots in (4, 6, 8, 9, 10):  # 2-D grids with two leads per dot
        grid = (2, n_dots // 2) if n_dots % 2 == 0 else (3, 3)
        nd = grid[0] * grid[1]
        out.append(dot_array(grid, rng.uniform(-1, 1, (batch, nd)), rng.uniform(0.2, 1.5, len(array_bonds(grid))),
                             rng.uniform(0.3, 3, 2 * nd),
                             rng.uniform(-1, 1, 2 * nd), rng.uniform(0.1, 2, 2 * nd), leads_per_dot=2))
    return out


@pytest.mark.parametrize("n_dots", range(1, 11))
def test_sparse_equals_dense(n_dots: int) -> None:
    for dev in _devices(n_dots, seed=100 + n_dots):
        ref = qd.solve(dev, method="linear")
        for method in ("sparse_direct", "sparse_iterative", "sparse"):
            res = qd.solve(dev, method=method)
            assert res.route == method
            assert np.all(res.valid)
            np.testing.assert_allclose(res.populations, ref.populations, rtol=0, atol=1e-10)
            assert np.all(res.residual <= RESIDUAL_TOL)
        np.testing.assert_allclose(res.particle_current_array, ref.particle_current_array, rtol=0, atol=1e-10)


def _single_dot_occupation(gamma: np.ndarray, T: np.ndarray, mu: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``P(n_d = 1) = sum_leads Gamma f / sum_leads Gamma`` per dot; arrays ``(n_dots, leads_per_dot)``."""
    f = qd.fermi(levels[:, None], mu, T)
    return (gamma * f).sum(axis=1) / gamma.sum(axis=1)


@pytest.mark.parametrize("n_dots, leads_per_dot", [(1, 1), (2, 2), (5, 1), (9, 2), (12, 1), (16, 2),
                                                   pytest.param(20, 1, marks=pytest.mark.slow)])
def test_decoupled_dots_factorise(n_dots: int, leads_per_dot: int) -> None:
    rng = np.random.default_rng(n_dots)
    nl = n_dots * leads_per_dot
    levels = rng.uniform(-1, 1, n_dots)
    T, mu, gamma = rng.uniform(0.3, 3, nl), rng.uniform(-1, 1, nl), rng.uniform(0.1, 2, nl)
    dev = dot_array(n_dots, levels, 0.0, T, mu, gamma, leads_per_dot=leads_per_dot)
    res = qd.solve(dev)
    p = _single_dot_occupation(*(a.reshape(n_dots, leads_per_dot) for a in (gamma, T, mu)), levels)
    occ = res.system.occupations.astype(bool)
    expected = np.prod(np.where(occ, p, 1.0 - p), axis=1)
    np.testing.assert_allclose(res.populations, expected, rtol=1e-9, atol=1e-14)
    assert float(res.residual) <= RESIDUAL_TOL


@pytest.fixture(scope="module", params=["chain14", "grid3x4_two_leads", "chain13_two_leads"])
def large(request: pytest.FixtureRequest) -> qd.SteadyState:
    rng = np.random.default_rng(7)
    if request.param == "chain14":
        n, lpd, shape = 14, 1, 14
    elif request.param == "grid3x4_two_leads":
        n, lpd, shape = 12, 2, (3, 4)
    else:
        n, lpd, shape = 13, 2, 13
    nl = n * lpd
    n_bonds = 17 if shape == (3, 4) else n - 1
    dev = dot_array(shape, rng.uniform(-1, 1, n), rng.uniform(0.2, 1, n_bonds), rng.uniform(0.5, 2, nl),
                    rng.uniform(-0.5, 0.5, nl), rng.uniform(0.5, 1.5, nl), leads_per_dot=lpd)
    res = qd.solve(dev)
    assert res.route == "sparse"
    return res


def test_large_conservation_per_dot(large: qd.SteadyState) -> None:
    sys_ = large.system
    J = large.particle_current_array
    scale = np.abs(large.channel_flux).sum()
    for d in sys_.dot_names:
        mine = [k for k, dot in enumerate(sys_.lead_dots) if dot == d]
        assert abs(J[mine].sum()) <= 1e-10 * scale
    assert abs(large.energy_current_array.sum()) <= 1e-10 * np.abs(large.energy_current_array).sum()
    assert float(large.residual) <= RESIDUAL_TOL


def test_large_second_law_and_micro_macro(large: qd.SteadyState) -> None:
    micro = float(large.entropy_production)
    macro = float(large.entropy_production_macro)
    assert micro >= 0.0
    assert macro > 0.0
    assert abs(micro - macro) <= 1e-9 * abs(micro)


def test_large_transport_is_nontrivial(large: qd.SteadyState) -> None:
    """Energy flows between the dots' leads (Coulomb drag), so the checks above are not vacuous."""
    assert np.abs(large.energy_current_array).max() > 1e-6


def test_residual_reported_for_every_route() -> None:
    dev = qd.three_terminal(1.0, 0.5, U=0.7, T={"t": 2.0, "b": 1.0, "r": 0.7}, mu=np.array([0.0, 0.3]), gamma=1.0)
    for method in ("matrix_tree", "linear", "sparse_direct", "sparse_iterative"):
        res = qd.solve(dev, method=method)
        assert res.residual.shape == (2,)
        assert np.all(res.residual <= 1e-13)
    stationary = res.generator.steady_state(method="linear")
    np.testing.assert_allclose(stationary.residual, res.residual, atol=1e-13)


def test_residual_detects_wrong_populations() -> None:
    res = qd.solve(dot_array(6, np.linspace(-1, 1, 6), 0.5, np.linspace(0.5, 2, 6)))
    P = np.array(res.populations)
    P[3] *= 1.01
    P /= P.sum()
    assert float(res.generator.residual(P)) > 1e-4


def test_near_singular_coupling_converges_or_says_so() -> None:
    """A lead coupling of 1e-12: the slow dot is right (vs GTH and the direct LU), or NaN with a warning."""
    rng = np.random.default_rng(3)
    n = 10
    g = rng.uniform(0.5, 1.5, n)
    g[n // 2] = 1e-12
    dev = dot_array(n, rng.uniform(-1, 1, n), rng.uniform(0.2, 1, n - 1), rng.uniform(0.5, 2, n),
                    rng.uniform(-0.5, 0.5, n), g)
    ref = qd.solve(dev, method="linear").populations
    direct = qd.solve(dev, method="sparse_direct")
    np.testing.assert_allclose(direct.populations, ref, rtol=0, atol=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = qd.solve(dev, method="sparse_iterative")
        except ValueError as exc:  # scalar device: an invalid point raises, after the warning
            assert "residual tolerance" in str(exc)
            assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
            return
    assert bool(res.valid)
    assert float(res.residual) <= RESIDUAL_TOL
    np.testing.assert_allclose(res.populations, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.populations, direct.populations, rtol=0, atol=1e-12)


def test_unconverged_point_is_nan_with_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solver that stops early is caught by the residual check: NaN, valid False, a ConvergenceWarning."""
    import qdthermo.kinetics.sparse as sparse

    def sloppy(A, b, **options):  # type: ignore[no-untyped-def]
        return np.ones(A.shape[0])

    monkeypatch.setattr(sparse, "_solve_iterative", sloppy)
    dev = dot_array(6, np.linspace(-1, 1, 6)[None, :] * np.array([[1.0], [0.5]]), 0.5, np.linspace(0.5, 2, 6))
    # the direct LU redoes a point the iterative solve misses (up to DIRECT_FALLBACK_MAX_STATES states)
    rescued = qd.solve(dev, method="sparse_iterative")
    assert np.all(rescued.valid)
    np.testing.assert_allclose(rescued.populations, qd.solve(dev, method="sparse_direct").populations, rtol=1e-12)
    monkeypatch.setattr(sparse, "DIRECT_FALLBACK_MAX_STATES", 0)
    with pytest.warns(ConvergenceWarning, match="did not reach"):
        with pytest.warns(qd.InvalidPointsWarning, match="residual tolerance"):
            res = qd.solve(dev, method="sparse_iterative")
    assert not np.any(res.valid)
    assert np.all(np.isnan(res.populations))


def test_low_temperature_reference_state_is_the_most_probable() -> None:
    # 9 dots (512 states), equilibrium at T = 1/20 .. 1/100 of the levels: the empty state, which the
    # reduced system used to fix (P = 1), has P ~ 1e-50 .. 1e-900; the solve failed or took 30 s. Equilibrium
    # is exactly Boltzmann: P_s ~ exp(-E_s / T)
    for T in (0.05, 0.02, 0.01, 0.002):  # the last beyond the sparse solvers: the dense fallback
        dev = dot_array(9, np.linspace(-1.0, -0.2, 9), 0.3, T)
        res = qd.solve(dev, method="sparse")
        E = np.asarray(res.system.energies).reshape(-1)
        boltzmann = np.exp(-(E - E.min()) / T)
        boltzmann /= boltzmann.sum()
        assert np.all(res.valid)
        # as accurate as the residual (1e-9 of the flux): rare states to about 1e-8 relative
        np.testing.assert_allclose(np.asarray(res.populations).reshape(-1), boltzmann, rtol=1e-6, atol=1e-16)


def test_too_large_is_refused_before_allocating() -> None:
    dev = dot_array(24, np.zeros((64, 24)), 0.5, 1.0)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(MemoryError, match=r"needs about [0-9.]+ GiB.*16777216 states"):
            dev.finalized()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20
    assert time.perf_counter() - t0 < 5.0


def test_sweeps_over_large_networks_run_one_point_per_task(tmp_path) -> None:
    import qdthermo as qd
    from qdthermo.sweeps import sweep_status

    ds = qd.sweep(_nine_dot_chain, U=np.array([0.3, 0.6, 0.9]), store=str(tmp_path / "big.zarr"),
                  scheduler="serial", progress=False)
    status = sweep_status(str(tmp_path / "big.zarr"))
    assert status["n_chunks"] == 3 and status["complete"]  # 512 states: one point per chunk
    direct = qd.solve(_nine_dot_chain(U=0.6))
    np.testing.assert_allclose(ds.entropy_production.values[1], direct.entropy_production, rtol=1e-10)


def _nine_dot_chain(U: float) -> object:
    import qdthermo as qd

    return qd.dot_array(9, levels=np.linspace(-1, 1, 9), U_nn=U, T=np.tile([2.0, 1.0], 9)[:9], mu=0.0, gamma=1.0)


def test_potential_estimate_is_exact_at_equilibrium() -> None:
    from qdthermo.kinetics import sparse
    from qdthermo.kinetics.network import network
    from qdthermo.kinetics.rates import rates

    T = 0.01
    system = dot_array(6, np.linspace(-1.0, -0.2, 6), 0.3, T).finalized()
    net, k = network(system), rates(system)
    rate = np.concatenate([np.asarray(k.plus).reshape(-1), np.asarray(k.minus).reshape(-1)])
    phi = sparse._potential(net, rate)
    E = np.asarray(system.energies).reshape(-1)
    np.testing.assert_allclose(phi - phi.max(), -(E - E.min()) / T, atol=1e-6 * np.ptp(E) / T)


def test_cold_metastable_reference_is_not_taken_for_the_ground_state() -> None:
    # 11 dots (2048 states, beyond the dense fallback) at T = 1/1000 of the levels: the longest-lived state is a
    # metastable charge state, not the ground state; fixed as the reference, the solve used to fail (the point
    # was invalid).  The potential estimate points to the ground state; equilibrium is exactly Boltzmann.
    T = 0.001
    res = qd.solve(dot_array(11, np.linspace(-1.0, -0.2, 11), 0.3, T), method="sparse")
    E = np.asarray(res.system.energies).reshape(-1)
    boltzmann = np.exp(-(E - E.min()) / T)
    boltzmann /= boltzmann.sum()
    assert np.all(res.valid)
    np.testing.assert_allclose(np.asarray(res.populations).reshape(-1), boltzmann, rtol=1e-6, atol=1e-16)


def test_solutions_from_several_references_must_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # each meets the residual but puts the probability in another basin (what round-off does when the flux
    # between basins is below that of the fluxes within them): the point is not solved, never silently wrong
    from qdthermo.kinetics import sparse
    from qdthermo.kinetics.network import network
    from qdthermo.kinetics.rates import rates

    system = dot_array(3, np.array([-1.0, -0.5, -0.2]), 0.3, 0.5).finalized()
    net, k = network(system), rates(system)
    rate = np.concatenate([np.asarray(k.plus).reshape(-1), np.asarray(k.minus).reshape(-1)])
    first = sparse._reference(rate, net)
    fixed: list[int] = []

    def solver_putting_all_at(state: int | None) -> object:
        """A fake ``_attempt``: every solution meets the residual (``1e-12 (ref + 1)``) and holds all the
        probability at ``state`` (None: at its own reference, a basin of its own)."""
        def attempt(net_: object, rate_: object, ref: int, solver: str,
                    follow: bool = True) -> tuple[np.ndarray, float, int]:
            fixed.append(ref)
            P = np.zeros(net.n_states)
            P[ref if state is None else state] = 1.0
            return P, 1e-12 * (ref + 1), ref
        return attempt

    monkeypatch.setattr(sparse, "_attempt", solver_putting_all_at(None))
    P, residual = sparse._steady_point(net, rate, "direct")  # every rate within eps of the largest: one solve
    assert P[first] == 1.0 and residual == 1e-12 * (first + 1) and fixed == [first]
    monkeypatch.setattr(sparse, "_stiff", lambda rate_: True)  # as at low temperature
    P, residual = sparse._steady_point(net, rate, "direct")
    assert np.all(np.isnan(P)) and residual == 1.0  # their largest difference
    assert len(set(fixed[1:])) == 1 + sparse._CANDIDATES  # the first reference, then the candidates

    fixed.clear()
    monkeypatch.setattr(sparse, "_attempt", solver_putting_all_at(first))
    P, residual = sparse._steady_point(net, rate, "direct")  # they agree: the one of smallest residual
    refs = fixed
    assert P[first] == 1.0 and residual == 1e-12 * (min(refs) + 1) and len(refs) == 1 + sparse._CANDIDATES


def test_cold_nonequilibrium_point_is_not_left_in_a_metastable_state() -> None:
    # 9 dots out of equilibrium (own temperature and potential per lead) at T ~ 1e-3 of the levels: rates over
    # hundreds of decades.  The sparse solve from the longest-lived state (a metastable charge state) met the
    # residual after rebalancing with the probability in the wrong basin (error 1 in the populations, marked
    # valid).  Stiff points are solved from several references; they disagree here, and the dense GTH
    # route, entrywise accurate, takes the point.
    from qdthermo.kinetics.network import network
    from qdthermo.kinetics.rates import rates
    from qdthermo.kinetics.steady import steady_state_linear

    T = [0.00625094314910694, 0.00954853824665557, 0.00221164203207205, 0.00560533211082261, 0.00134629291081762,
         0.00262604133118811, 0.0026804939893269, 0.00176888421738362, 0.0042087429267294]
    mu = [-0.2620599188605337, -0.2845316818212755, -0.10040595641787925, 0.2948532489230897, 0.13623371493520375,
          -0.04336161801751065, -0.18036923041414607, -0.22707051391734598, -0.05009508312238142]
    levels = [-0.8557498229371789, -0.7012710686225683, -0.583784592973209, -0.5797056699766185,
              -0.4119568103701384, -0.2698344222180292, -0.25649178796978056, -0.2353313469290903,
              -0.23332780814908183]
    device = dot_array(9, levels, 0.5507368698805332, T, mu)
    res = qd.solve(device, method="sparse")
    system = device.finalized()
    exact = steady_state_linear(network(system), rates(system))
    assert np.all(res.valid)
    np.testing.assert_allclose(res.populations, exact, rtol=1e-12, atol=1e-300)
