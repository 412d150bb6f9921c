"""The solves of the steps that read no earlier dataset, free of xarray and Matplotlib, and their early process.

Two steps of the pipeline need nothing but the configuration: the exact ICC
edges (:mod:`~qdthermo.paper.edges`) and the design of the ICC devices
(:mod:`~qdthermo.paper.design`), ~6 CPU-s together.  Their solves live here,
returning plain NumPy arrays, in a module that imports neither xarray nor
Matplotlib nor dask: ``qdthermo paper`` starts them (:class:`Early`) in a
process forked as soon as the configuration is known, while the driver
still imports those libraries (~1.7 s on one core, the other idle).  The
steps then build their datasets from the arrays (``edges.dataset``,
``design.dataset``); ``compute`` of each module does both in process.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import qdthermo as qd
from qdthermo.design.conditions import IccEdges, icc_edges, onsager_sign_edge, paper_device
from qdthermo.design.problem import run_jointly
from qdthermo.paper.config import PaperConfig, interaction

__all__ = ["EARLY", "Early", "design_results", "edge_results", "fork_is_safe", "start_early", "two_force_device"]

Arrays = dict[str, Any]

# ------------------------------------------------------------------------------------------- design
#: role -> (flux in ICC, objective, its efficiency, the Carnot bound)
ROLES = {"engine": ("J_N", "power", "efficiency", "carnot_efficiency"),
         "refrigerator": ("J_E", "cooling_power", "cop", "carnot_cop")}
#: eps_R values of the design scan
EPS_R = (0.0, 1.0, 2.0)
#: points kept per Pareto front (NaN-padded)
FRONT = 24
#: the values of each (role, eps_R) of :func:`design_results`
DESIGN_KEYS = ("max", "eff", "carnot", "F_E_scaled", "F_N")


def two_force_device(F_E_scaled: Any, F_N: Any, x: float, eps_R: float, eps_L: float, T_b: float,
                     gamma: float) -> qd.Device:
    """The paper's two-force device at F~_E = eps_L F_E, F_N, x = (eps_L + U_eff)/eps_L."""
    _, U, J = interaction(x, eps_L)
    return qd.coupled_transport(np.asarray(F_E_scaled, dtype=float) / eps_L, F_N, eps_L=eps_L, eps_R=eps_R,
                                U=float(U), J=float(J), T_ref=T_b, gamma=gamma)


def _one(cfg: PaperConfig, role: str, eps_R: float, samples: int) -> dict[str, Any]:
    """Maximum output, its efficiency and Carnot bound, where, and the Pareto front of one role and level."""
    flux, objective, eff, carnot = ROLES[role]
    fixed: dict[str, Any] = dict(x=float(min(cfg.x_values)), eps_R=eps_R, eps_L=cfg.eps_L, T_b=cfg.T_b,
                                 gamma=cfg.gamma)
    vary = {"F_E_scaled": (0.0, cfg.fe_max), "F_N": (0.0, cfg.fn_max)}
    icc = {f"regime_{flux}": (int(qd.Regime.ICC), int(qd.Regime.ICC))}
    out: dict[str, Any] = {k: np.nan for k in DESIGN_KEYS}
    out["front"] = np.full((FRONT, 2), np.nan)
    try:
        opt = qd.optimize(two_force_device, maximize=objective, vary=vary, constraints=icc, samples=samples, **fixed)
    except ValueError:  # no point of the window has ICC in this flux
        return out
    out.update({"max": opt.value, "eff": float(getattr(opt.performance, eff)),
                "carnot": float(getattr(opt.performance, carnot)), "F_E_scaled": opt.parameters["F_E_scaled"],
                "F_N": opt.parameters["F_N"]})
    try:
        front = qd.pareto(two_force_device, objectives=(objective, eff), vary=vary, constraints=icc,
                          samples=samples, **fixed)
    except ValueError:
        return out
    keep = np.linspace(0, len(front.values) - 1, min(FRONT, len(front.values))).round().astype(int)
    out["front"][:len(keep)] = front.values[keep]
    return out


def design_results(cfg: PaperConfig) -> Arrays:
    """Each of :data:`DESIGN_KEYS` as a ``(role, eps_R)`` array and ``front`` ``(role, eps_R, FRONT, 2)``."""
    samples = 256 if cfg.quick else 1024
    keys = [(r, e) for r in ROLES for e in EPS_R]
    # the searches are independent: they run together, each round's points solved as one batch
    res = dict(zip(keys, run_jointly([functools.partial(_one, cfg, r, e, samples) for r, e in keys])))
    out: Arrays = {key: np.array([[res[(r, e)][key] for e in EPS_R] for r in ROLES], dtype=float)
                   for key in DESIGN_KEYS}
    out["front"] = np.array([[res[(r, e)]["front"] for e in EPS_R] for r in ROLES])
    return out


# -------------------------------------------------------------------------------------------- edges
FLUXES = ("J_N", "J_E")
QUADRANTS = ("Q1", "Q3")
#: the Q3 probe with lead t cold: x close to 0-, F_E = COLD_FE (in units of 1/eps_L), F_N = COLD_FN
COLD_X, COLD_FE, COLD_FN = -0.01, -200.0, -0.01
#: at most this many edges are kept per (eps_R, flux, quadrant) (NaN padded)
MAX_EDGES = 3


def table_eps_R(cfg: PaperConfig) -> np.ndarray:
    """The eps_R of the edge table: every ``cond_eps_R`` and ``eps_R``."""
    return np.unique(np.array([*cfg.cond_eps_R, cfg.eps_R], dtype=float))


def edge_arrays(r: IccEdges, n: int) -> Arrays:
    """Edges of :func:`icc_edges` as arrays (eps_R, flux, quadrant, edge), NaN/False padded."""
    shape = (n, len(FLUXES), len(QUADRANTS), MAX_EDGES)
    out = {"value": np.full(shape, np.nan), "present_below": np.zeros(shape, bool),
           "near_equilibrium": np.zeros(shape, bool), "F_E_scaled": np.full(shape, np.nan),
           "F_N": np.full(shape, np.nan), "depth": np.full(shape, np.nan),
           "n_edges": np.zeros(shape[:3], np.int64), "present_at_start": np.zeros(shape[:3], bool)}
    for i, f in enumerate(FLUXES):
        for q, quad in enumerate(QUADRANTS):
            out["present_at_start"][:, i, q] = r.present[(f, quad)][:, 0]
            for b in range(n):
                es = r.find(f, quad, b)
                out["n_edges"][b, i, q] = len(es)
                for k, e in enumerate(es[:MAX_EDGES]):
                    for name in ("value", "present_below", "near_equilibrium", "F_E_scaled", "F_N", "depth"):
                        out[name][b, i, q, k] = getattr(e, name)
    return out


def edge_results(cfg: PaperConfig) -> Arrays:
    """x0(eps_R), the L_NE map, the cold Q3 probe and the edges in the window and the small window, as arrays.

    Keys: the axes ``eps_R``, ``eps_R_table``, ``x_map``, ``eps_R_map`` and ``span``; ``x0``, ``L_NE``,
    ``cold_icc``; ``main`` and ``small`` (:func:`edge_arrays`).
    """
    fixed: dict[str, Any] = {"eps_L": cfg.eps_L, "T_ref": cfg.T_b, "mu_ref": cfg.mu_b, "gamma": cfg.gamma}
    eR_table = table_eps_R(cfg)
    eR = np.unique(np.concatenate([np.linspace(cfg.thr_eps_R_min, cfg.thr_eps_R_max, cfg.n_edge_eps_R), eR_table]))
    span = (cfg.cond_x_min, 0.0)
    num: dict[str, Any] = {"n_scan": cfg.n_edge_scan, "n_grid": cfg.n_edge_grid, "tol": cfg.edge_tol}
    main = icc_edges(span, eps_R=eR, fe_max=cfg.fe_max, fn_max=cfg.fn_max, **num, **fixed)
    small = icc_edges(span, eps_R=eR_table, fe_max=cfg.edge_small * cfg.fe_max, fn_max=cfg.edge_small * cfg.fn_max,
                      **num, **fixed)
    x0 = onsager_sign_edge(eR, **fixed)
    # the sign map of L_NE: exact, from the generator
    xs = np.linspace(cfg.cond_x_min, cfg.cond_x_max, 2 * cfg.n_cond_x - 1)
    eR_map = np.linspace(cfg.thr_eps_R_min, cfg.thr_eps_R_max, 2 * cfg.n_thr_eps_R - 1)
    lr = qd.linear_response(paper_device(0.0, 0.0, x=xs[:, None], eps_R=eR_map[None, :], **fixed))
    # Q3 with lead t cold: J_N against both forces at x = COLD_X close to 0?
    cold = qd.solve(paper_device(COLD_FE * cfg.eps_L, COLD_FN, x=COLD_X, eps_R=eR_table, **fixed))
    cold_icc = cold.classify(force_tol=cfg.force_tol, flux_tol=cfg.flux_tol)["J_N"] == qd.Regime.ICC
    return {"eps_R": eR, "eps_R_table": eR_table, "x_map": xs, "eps_R_map": eR_map, "span": span,
            "x0": np.asarray(x0), "L_NE": np.asarray(lr.coefficient("J_N", "F_E")), "cold_icc": np.asarray(cold_icc),
            "main": edge_arrays(main, eR.size), "small": edge_arrays(small, eR_table.size)}


# ------------------------------------------------------------------------------------ early process
#: step name (of :data:`qdthermo.paper.pipeline.STEPS`) -> its solve, computed by :class:`Early` in this order
#: (the pipeline's: the edges are read first)
EARLY: Mapping[str, Callable[[PaperConfig], Arrays]] = {"exact ICC edges": edge_results, "design": design_results}


def fork_is_safe() -> bool:
    """True on Linux while no Numba thread pool runs in this process (a pool does not survive a fork)."""
    import multiprocessing as mp

    if sys.platform != "linux" or "fork" not in mp.get_all_start_methods():
        return False
    numba = sys.modules.get("numba")
    if numba is None:
        return True
    try:
        numba.threading_layer()
    except ValueError:  # "Threading layer is not initialized"
        return True
    return False


class Early:
    """A forked process that computes every solve of :data:`EARLY`; :meth:`result` gives them by step name.

    The process computes them one after the other, BLAS on one thread, and puts each result (or the
    exception it raised) on a queue, whose feeder thread writes it to the pipe while the next solve runs
    (a result larger than the pipe's buffer does not wait for the driver to read it); :meth:`close` ends
    the process (if still running) and must be called.
    """

    def __init__(self, cfg: PaperConfig) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self._queue = ctx.Queue()
        self._proc = ctx.Process(target=_serve, args=(cfg, self._queue), name="qdthermo-paper-early", daemon=True)
        with warnings.catch_warnings():  # Python 3.12: only BLAS's idle pool runs at the fork (see pipeline)
            warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
            self._proc.start()
        self._done: dict[str, tuple[bool, Any]] = {}

    def __contains__(self, name: object) -> bool:
        return name in EARLY

    def result(self, name: str) -> Arrays:
        """The arrays of step ``name`` (waiting for them); the exception of its solve is raised here."""
        import queue

        while name not in self._done:
            try:
                key, ok, value = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not self._proc.is_alive():
                    raise RuntimeError(f"the early process ended (exit code {self._proc.exitcode}) before "
                                       f"step {name!r} was solved") from None
                continue
            self._done[key] = (ok, value)
        ok, value = self._done.pop(name)
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the process (terminated if still computing) and release the queue."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._queue.close()


def _serve(cfg: PaperConfig, results: Any) -> None:
    """The early process: every solve of :data:`EARLY` in order, each result put as ``(name, ok, value)``.

    Ctrl-C is the driver's to handle (it terminates this process): ignored here.
    """
    import signal

    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(limits=1, user_api="blas")
    for name, solve in EARLY.items():
        try:
            results.put((name, True, solve(cfg)))
        except Exception as exc:  # noqa: BLE001 - re-raised by Early.result in the driver
            results.put((name, False, exc))


def start_early(cfg: PaperConfig) -> Early | None:
    """:class:`Early` started for ``cfg``; None on one core or where a fork is not safe (the steps then solve
    as the pipeline schedules them)."""
    import os

    return Early(cfg) if len(os.sched_getaffinity(0)) > 1 and fork_is_safe() else None
