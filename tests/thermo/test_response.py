"""Differential and linear response: exact, reciprocal, positive, equal to finite differences and to C2/2."""

from __future__ import annotations

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.thermo.onsager import device_at_forces

from .devices import disconnected_at_middle, random_three_terminal
from .devices import random_network as random_small_network


def random_paper_device(n: int, seed: int = 0) -> qd.Device:
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        eps_L=rng.uniform(-2, 2, n), eps_R=rng.uniform(-2, 2, n), U=rng.uniform(0, 3, n), J=rng.uniform(0, 2, n),
        T={lead: 10 ** rng.uniform(-0.5, 0.5, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1, 1, n) for lead in "tbr"},
        gamma={lead: 10 ** rng.uniform(-1, 1, n) for lead in "tbr"})


def random_network(seed: int) -> qd.Device:
    rng = np.random.default_rng(seed)
    dots = [qd.Dot(f"d{k}", level=rng.uniform(-1, 1), species=str(rng.choice(["up", "down", "x"]))) for k in range(3)]
    leads = [qd.Lead(f"l{m}", dot=f"d{m % 3}", temperature=rng.uniform(0.5, 2), chemical_potential=rng.uniform(-1, 1),
                     coupling=rng.uniform(0.2, 2)) for m in range(5)]
    inter = [qd.Interaction(("d0", "d1"), coulomb=rng.uniform(0, 2), exchange=rng.uniform(0, 1)),
             qd.Interaction(("d1", "d2"), coulomb=rng.uniform(0, 2))]
    return qd.Device(dots, leads, inter)


@pytest.mark.parametrize("seed", range(4))
def test_onsager_reciprocity_and_positivity_on_random_networks(seed: int) -> None:
    lr = qd.linear_response(random_network(seed))
    assert lr.onsager.shape == (len(lr.fluxes), len(lr.forces))
    assert lr.reciprocity_error < 1e-10
    assert lr.min_eigenvalue > -1e-12 * np.abs(lr.onsager).max()
    eq = lr.result
    for name in lr.fluxes:
        assert abs(eq.fluxes[name]) < 1e-13  # equilibrium


def test_reciprocity_on_random_paper_devices() -> None:
    lr = qd.linear_response(random_paper_device(2000, seed=1))
    assert np.nanmax(lr.reciprocity_error) < 1e-9
    assert np.all(lr.min_eigenvalue > -1e-12 * np.abs(lr.onsager).max(axis=(-2, -1)))


def test_reciprocity_at_low_temperature() -> None:
    # T down to 1/300 of the levels: states of probability 1e-100 and less.  The group inverse used to take
    # the last state (both dots occupied, nearly empty here) as reference: L_ij and L_ji then differed by up
    # to 200% at a quarter of these points, with negative eigenvalues of order max |L| (coefficients below
    # the round-off of the one-way fluxes, e.g. a lead's L_ii of 1e-25 beside fluxes of 1e-9, stay round-off)
    rng = np.random.default_rng(4)
    n = 2000
    T = 10.0 ** rng.uniform(-2.5, 0.0, n)
    device = qd.three_terminal(eps_L=rng.uniform(0.5, 2, n), eps_R=rng.uniform(0.5, 2, n), U=rng.uniform(0, 3, n),
                               J=rng.uniform(0, 1, n), T={lead: T for lead in "tbr"}, mu={lead: 0.0 for lead in "tbr"})
    lr = qd.linear_response(device)
    assert np.all(np.isfinite(lr.onsager))
    assert np.max(lr.reciprocity_error) < 1e-12
    # the equilibrium covariances: no negative variance (round-off below the one-way fluxes is exactly 0)
    fl = qd.fluctuations(device_at_forces(device, {f: 0.0 for f in lr.forces}), order=2, counting=list(lr.fluxes),
                         engine="numpy")
    variances = np.diagonal(fl.covariance_matrix(), axis1=-2, axis2=-1)
    assert np.all(variances >= 0.0)
    C2 = np.stack([fl.cumulant(2, q) for q in lr.fluxes], axis=-1)
    _, src, _, rate, P = fl._jumps()
    M2 = np.stack([(rate * P[..., src] * np.abs(fl.increments(q)) ** 2).sum(axis=-1) for q in lr.fluxes], axis=-1)
    np.testing.assert_array_less(np.abs(variances - C2), 1e-12 * M2 + 1e-300)  # two routes: equal to round-off


def test_response_equals_finite_differences() -> None:
    device = random_paper_device(20, seed=2)
    resp = qd.response(device)
    h = 1e-6
    for j, force in enumerate(resp.forces):
        F0 = qd.solve(device).forces[force]
        up = qd.solve(device_at_forces(device, {force: F0 + h})).flux_array
        down = qd.solve(device_at_forces(device, {force: F0 - h})).flux_array
        fd = (up - down) / (2 * h)
        np.testing.assert_allclose(resp.matrix[..., :, j], fd, rtol=1e-6, atol=1e-9, err_msg=force)


def test_response_at_zero_force_is_onsager() -> None:
    device = random_paper_device(30, seed=3)
    lr = qd.linear_response(device)
    eq = device_at_forces(device, {f: 0.0 for f in lr.forces})
    np.testing.assert_allclose(qd.response(eq).matrix, lr.onsager, rtol=1e-12, atol=1e-15)


def test_onsager_is_half_the_equilibrium_covariance() -> None:
    device = random_paper_device(50, seed=4)
    lr = qd.linear_response(device)
    eq = device_at_forces(device, {f: 0.0 for f in lr.forces})
    fl = qd.fluctuations(eq, order=2, counting=list(lr.fluxes))
    C2 = fl.covariance_matrix()
    np.testing.assert_allclose(lr.onsager, C2 / 2, rtol=1e-9, atol=1e-14)


def test_fluctuation_dissipation_for_the_particle_current() -> None:
    # single dot at equilibrium: C2 = 2 T dJ/dV, with V = mu_L - mu_R
    T, h = 0.7, 1e-6
    dev = qd.single_dot(eps=0.3, T={"L": T, "R": T}, mu={"L": 0.0, "R": 0.0}, gamma={"L": 1.0, "R": 0.5})
    fl = qd.fluctuations(dev, order=2, counting=["N_L"])
    J = [float(qd.solve(qd.single_dot(eps=0.3, T={"L": T, "R": T}, mu={"L": v, "R": 0.0},
                                      gamma={"L": 1.0, "R": 0.5})).particle_current["L"]) for v in (h, -h)]
    np.testing.assert_allclose(fl.cumulant(2, "N_L"), 2 * T * (J[0] - J[1]) / (2 * h), rtol=1e-7)


def test_linear_response_keeps_the_batch_axes_of_the_forces() -> None:
    """Along an axis where only forces vary the equilibrium is one point, and the Onsager matrix is the same
    along it: it still has the device's batch shape, on both engines."""
    dev = qd.coupled_transport(F_E=np.linspace(-0.5, 0.5, 4)[:, None], F_N=np.linspace(-1.0, 1.0, 5))
    for engine in ("numpy", "compiled"):
        lr = qd.linear_response(dev, engine=engine)
        assert lr.matrix.shape == (4, 5, 3, 3) and lr.max_efficiency().shape == (4, 5)
        np.testing.assert_array_equal(lr.matrix, np.broadcast_to(lr.matrix[0, 0], lr.matrix.shape))
    np.testing.assert_allclose(lr.matrix[0, 0], qd.linear_response(qd.coupled_transport(F_E=0.0, F_N=0.0)).matrix,
                               rtol=1e-13, atol=1e-16)


def test_two_force_figures_of_merit() -> None:
    lr = qd.linear_response(qd.coupled_transport(F_E=0.3, F_N=0.2, eps_L=1.0, eps_R=1.0, U=1.0, J=0.0, T_ref=1.0))
    q = lr.degree_of_coupling()
    assert -1 <= q <= 1
    ZT = lr.figure_of_merit()
    np.testing.assert_allclose(ZT, q**2 / (1 - q**2))
    assert 0 <= lr.efficiency_at_max_power() <= 0.5 and 0 <= lr.max_efficiency() <= 1
    r = np.sqrt(1 + ZT)
    np.testing.assert_allclose(lr.max_efficiency(), (r - 1) / (r + 1), rtol=1e-13)
    # tight coupling (a single level: every electron carries its energy eps): q = 1, ZT = inf, Carnot reached
    tight = qd.linear_response(qd.single_dot(eps=np.array([1.0, 1.3, 0.5]), T=1.0, mu=0.0))
    np.testing.assert_allclose(tight.degree_of_coupling(), 1.0, rtol=1e-12)
    assert np.all(np.isinf(tight.figure_of_merit()) | (tight.figure_of_merit() > 1e12))
    np.testing.assert_allclose(tight.max_efficiency(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(tight.efficiency_at_max_power(), 0.5, rtol=1e-12)
    assert lr.coefficient("J_N", "F_E") == lr.onsager[lr.fluxes.index("J_N"), lr.forces.index("F_E")]
    with pytest.raises(ValueError, match="unknown name 'J_X'"):
        lr.coefficient("J_X", "F_E")


@pytest.mark.parametrize("x", [2.0, 0.5, -0.4, -2.0, -3.5])
def test_cross_coefficient_of_the_paper_device_in_closed_form(x: float) -> None:
    """With Gamma_t = Gamma_b, L_NE = (phi_12 w_12 + phi_34 w_34) / 2 and L_NN = (phi_12 + phi_34) / 2.

    phi are the equilibrium one-way fluxes of lead t on dot L's two transitions (dot R empty:
    w_12 = eps_L; dot R full: w_34 = eps_L + U_eff = x eps_L).  At equilibrium lead t and b
    have equal rates, so J_N^t - J_N^b is the fixed-population response alone.
    """
    eps_L, eps_R, T = 1.0, 0.3, 1.0
    U_eff = (x - 1.0) * eps_L
    device = qd.coupled_transport(F_E=0.2, F_N=0.1, eps_L=eps_L, eps_R=eps_R, U=max(U_eff, 0.0),
                                  J=max(-4 * U_eff, 0.0), T_ref=T)
    lr = qd.linear_response(device)
    eq = lr.result
    s, k, P = eq.system, eq.rates, eq.populations
    on_t = s.channel_lead == s.lead_names.index("t")
    phi = (k.plus * P[s.channel_initial])[on_t]
    w = s.channel_energy[on_t]
    np.testing.assert_allclose(sorted(w), sorted([eps_L, x * eps_L]), atol=1e-12)
    L_NE = 0.5 * np.sum(phi * w)
    np.testing.assert_allclose(lr.coefficient("J_N", "F_E"), L_NE, rtol=1e-10)
    np.testing.assert_allclose(lr.coefficient("J_N", "F_N"), 0.5 * np.sum(phi), rtol=1e-10)
    # (L_EE has further terms: energy also leaves through lead r, so J_E^t != -J_E^b)


# ------------------------------------------------------------------ the compiled route against the NumPy route
needs_numba = pytest.mark.skipif(not qd.kinetics.counting_compiled.available(),
                                 reason="Numba is not available or disabled")


def round_off_scale(rsp: qd.Response) -> np.ndarray:
    """``(*shape, k, k)``: the size of ``dJ_i/dF_j`` built from the one-way fluxes (its round-off scale).

    ``sum_{c in lead i} (k^+ P_i + k^- P_j) (|w_c| for an energy flux)`` times the largest ``|dx/dF_j|``
    (``|w|`` on lead j for an energy force, 1 for a particle force): every coefficient is at most about
    this (the response of a flux is that of its one-way parts), and round-off a few eps of it, whatever
    cancellations leave of the coefficient.
    """
    res = rsp.result
    s, k, basis = res.system, res.rates, res.force_basis
    Pi, Pj = s.on_channels(np.asarray(res.populations))
    one_way = k.plus * Pi + k.minus * Pj
    w = np.abs(np.broadcast_to(s.channel_energy, one_way.shape))
    out = np.zeros(res.shape + (len(basis.force_names),) * 2)
    for i, kind_i in enumerate(basis.kind):
        flux = np.sum((one_way * (w if kind_i == "E" else 1.0))[..., s.channel_lead == basis.lead[i]], axis=-1)
        for j, kind_j in enumerate(basis.kind):
            out[..., i, j] = flux * (np.max(w[..., s.channel_lead == basis.lead[j]], axis=-1) if kind_j == "E"
                                     else 1.0)
    return out


def assert_same_response(compiled: qd.Response, reference: qd.Response) -> None:
    """Same NaN pattern; equal to 1e-13 of each coefficient's round-off scale (:func:`round_off_scale`)."""
    a, b = compiled.matrix, reference.matrix
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(b)
    assert np.all(np.abs(a - b)[ok] <= 1e-13 * round_off_scale(reference)[ok])
    assert np.all(np.abs(b)[ok] <= 2 * round_off_scale(reference)[ok])  # the scale is the coefficients' own


def cold_paper_device(n: int, seed: int) -> qd.Device:
    """Forces on, temperatures from 1/300 of the levels to 3x them: rates and populations over 100s of decades."""
    rng = np.random.default_rng(seed)
    return qd.three_terminal(
        eps_L=rng.uniform(0.5, 2, n), eps_R=rng.uniform(-2, 2, n), U=rng.uniform(0, 3, n), J=rng.uniform(0, 1, n),
        T={lead: 10.0 ** rng.uniform(-2.5, 0.5, n) for lead in "tbr"},
        mu={lead: rng.uniform(-1, 1, n) for lead in "tbr"}, gamma={lead: 10 ** rng.uniform(-2, 2, n) for lead in "tbr"})


@needs_numba
@pytest.mark.parametrize("make", [lambda: random_paper_device(3000, seed=7), lambda: cold_paper_device(3000, seed=8),
                                  lambda: random_three_terminal(3, 500, t_ratio=100.0),  # per-transition couplings
                                  lambda: random_network(9), lambda: random_small_network(4, 50),
                                  lambda: random_small_network(7, 50)])
def test_compiled_response_equals_the_numpy_route(make) -> None:
    device = make()
    for func in (qd.response, qd.linear_response):
        compiled, numpy = func(device, engine="compiled"), func(device, engine="numpy")
        assert (compiled.route, numpy.route) == ("compiled", "numpy")
        assert (compiled.fluxes, compiled.forces) == (numpy.fluxes, numpy.forces)
        assert_same_response(compiled, numpy)


@needs_numba
def test_compiled_response_of_larger_networks() -> None:
    # a 2 x 3 array (64 states), one lead per dot: six particle and six energy forces... minus the references
    rng = np.random.default_rng(11)
    device = qd.dot_array((2, 3), rng.uniform(-1, 1, (40, 6)), 0.5, rng.uniform(0.5, 2, 6), rng.uniform(-0.5, 0.5, 6),
                          rng.uniform(0.2, 2, 6))
    for func in (qd.response, qd.linear_response):
        compiled, numpy = func(device, engine="compiled"), func(device, engine="numpy")
        assert compiled.matrix.shape == (40, len(compiled.fluxes), len(compiled.forces))
        assert_same_response(compiled, numpy)
    lr = qd.linear_response(device, engine="compiled")
    assert np.max(lr.reciprocity_error) < 1e-10


@needs_numba
def test_compiled_response_marks_invalid_points() -> None:
    device = disconnected_at_middle()  # the middle point has no unique steady state
    with pytest.warns(qd.InvalidPointsWarning):
        compiled = qd.response(device, engine="compiled")
    with pytest.warns(qd.InvalidPointsWarning):
        numpy = qd.response(device, engine="numpy")
    assert np.all(np.isnan(compiled.matrix[1])) and np.all(np.isfinite(compiled.matrix[[0, 2]]))
    assert_same_response(compiled, numpy)


@needs_numba
def test_fallback_points_take_the_numpy_route(monkeypatch: pytest.MonkeyPatch) -> None:
    # points whose elimination meets a pivot that is not positive and finite come back as fallback: the
    # NumPy route computes them (at those points only)
    from qdthermo.thermo import onsager

    real = onsager.response_device

    def with_fallback(*args, **kwargs):
        matrix, _ = real(*args, **kwargs)
        fallback = np.array([1, 4, 5])
        matrix[fallback] = np.nan
        return matrix, fallback

    monkeypatch.setattr(onsager, "response_device", with_fallback)
    device = random_paper_device(8, seed=12)
    compiled, numpy = qd.response(device, engine="compiled"), qd.response(device, engine="numpy")
    assert_same_response(compiled, numpy)
    np.testing.assert_array_equal(onsager._response_numpy(numpy.result, np.array([5, 1])), numpy.matrix[[5, 1]])


def test_engine_choice() -> None:
    from qdthermo import _compiled
    from qdthermo.thermo import onsager

    device = random_paper_device(3, seed=13)
    assert qd.response(device, engine="numpy").route == "numpy"
    assert onsager._response_route(4, onsager.COMPILED_MIN_POINTS - 1, "numpy") == "numpy"
    big = onsager._response_route(4, onsager.COMPILED_MIN_POINTS, "auto")
    assert big == ("compiled" if _compiled.available() else "numpy")
    assert onsager._response_route(onsager.MAX_STATES + 1, 10**7, "compiled") == "numpy"  # too large: NumPy
    with pytest.raises(ValueError, match=r"engine must be one of \['auto', 'numpy', 'compiled'\], got 'fast'"):
        qd.linear_response(device, engine="fast")


@needs_numba
def test_response_of_a_fused_solve_reads_every_observable() -> None:
    # on the compiled steady-state route the response's solve computes only what it reads in the kernel's pass;
    # every other observable of its result is formed on first use, as a full solve has it
    device = random_paper_device(50, seed=14)
    result = qd.response(device, method="compiled").result
    full = qd.solve(device, method="compiled")
    np.testing.assert_array_equal(result.populations, full.populations)
    for name in ("particle_current", "energy_current", "heat_current"):
        for lead in result.lead_names:
            np.testing.assert_allclose(getattr(result, name)[lead], getattr(full, name)[lead], rtol=1e-12, atol=1e-15)
    for flux in ("J_E", "J_N"):
        np.testing.assert_array_equal(result.regime[flux], full.regime[flux])
