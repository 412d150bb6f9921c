"""Benchmark: one point of a chain of N capacitively coupled dots, N = 4..20 (issue 12).

Per N, in a fresh subprocess (so the peak RSS is that of one solve):

* qdthermo: ``qd.solve`` (automatic route) + every per-lead particle, energy
  and heat current + the entropy production; wall time and peak RSS
  (``resource.getrusage``, before anything else runs in that process);
* baseline: a plain SciPy sparse solve of the same generator (CSR assembled
  from the channel rates, one state's probability fixed, BiCGSTAB with a
  Jacobi preconditioner, normalised), timed in the same run, with
  single-threaded BLAS (as qdthermo's iterative route) and, up to 16 dots,
  also with the default BLAS threads.  The baseline times the solve from the
  channel rates (the system itself is built outside the timer).

The machine may be shared: up to 17 dots both sides are timed 3 times and the
best is kept (peak memory is that of the first run); 18-20 dots run once.

Random chain: levels in [-1, 1], nearest-neighbour U in [0.2, 1], one lead
per dot with T in [0.5, 2], mu in [-0.5, 0.5], Gamma in [0.5, 1.5].
Targets: time within 2x of the baseline from 14 dots up; peak memory below
0.4 GiB + 4 kB per state; 20 dots to completion.

Usage::

    python benchmarks/large_networks.py            # N = 4..20, writes results/large_networks.{json,png}
    python benchmarks/large_networks.py 4 6 8      # selected N (merged into the existing JSON)
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
GIB = 2.0**30


def chain(N: int, seed: int = 12):  # type: ignore[no-untyped-def]
    from qdthermo.model.arrays import dot_array

    rng = np.random.default_rng(seed + N)
    return dot_array(N, rng.uniform(-1, 1, N), rng.uniform(0.2, 1.0, max(N - 1, 1)), rng.uniform(0.5, 2.0, N),
                     rng.uniform(-0.5, 0.5, N), rng.uniform(0.5, 1.5, N))


def baseline(system, plus, minus):  # type: ignore[no-untyped-def]
    """Plain SciPy: CSR generator from the channel rates, P_0 = 1, BiCGSTAB + Jacobi, normalise."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    n = system.n_states
    i, j = system.channel_initial, system.channel_final
    rate = np.concatenate([plus, minus])
    src, tgt = np.concatenate([i, j]), np.concatenate([j, i])
    out = np.bincount(src, weights=rate, minlength=n)
    W = sp.csr_matrix((np.concatenate([rate, -out]), (np.concatenate([tgt, np.arange(n)]),
                                                       np.concatenate([src, np.arange(n)]))), shape=(n, n))
    A = W[1:, 1:]
    b = -W[1:, [0]].toarray().ravel()
    d = A.diagonal()
    M = spla.LinearOperator(A.shape, matvec=lambda v: v.ravel() / d, dtype=float)
    x, info = spla.bicgstab(A, b, rtol=1e-13, atol=0.0, maxiter=10 * n, M=M)
    P = np.concatenate([[1.0], x])
    return P / P.sum(), info


def _qdthermo(dev):  # type: ignore[no-untyped-def]
    """qd.solve + every per-lead current + the entropy production."""
    import qdthermo as qd

    res = qd.solve(dev)
    currents = [res.particle_current[name] for name in res.system.lead_names]
    currents += [res.energy_current[name] for name in res.system.lead_names]
    currents += [res.heat_current[name] for name in res.system.lead_names]
    return res, float(res.entropy_production)


def child(N: int) -> dict:
    dev = chain(N)
    t0 = time.perf_counter()
    res, sigma = _qdthermo(dev)
    t_qd = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0  # Linux: kB
    repeats = 3 if N <= 17 else 1  # the machine is shared: best of 3 where cheap, for both sides
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        _qdthermo(dev)
        t_qd = min(t_qd, time.perf_counter() - t0)
    route = res.route
    residual = float(res.residual)
    sigma_macro = float(res.entropy_production_macro)
    P = np.asarray(res.populations)
    plus, minus = res.rates.plus, res.rates.minus
    del res
    from threadpoolctl import threadpool_limits

    system = dev.finalized()
    t_base = np.inf
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(repeats):
            t0 = time.perf_counter()
            Pb, info = baseline(system, plus, minus)
            t_base = min(t_base, time.perf_counter() - t0)
    t_base_threads = None
    if N <= 16:
        t0 = time.perf_counter()
        baseline(system, plus, minus)
        t_base_threads = time.perf_counter() - t0
    return {
        "N": N, "states": 2**N, "route": route, "repeats": repeats, "time_qdthermo_s": t_qd, "time_baseline_s": t_base,
        "time_baseline_default_threads_s": t_base_threads, "ratio": t_qd / t_base,
        "peak_rss_GiB": peak / GIB, "limit_GiB": 0.4 + 4096.0 * 2**N / GIB,
        "residual": residual, "baseline_info": int(info), "max_abs_diff_vs_baseline": float(np.abs(P - Pb).max()),
        "entropy_production": sigma, "micro_macro_rel": abs(sigma - sigma_macro) / abs(sigma),
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    N = np.array([r["N"] for r in rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.semilogy(N, [r["time_qdthermo_s"] for r in rows], "o-", label="qd.solve + currents + entropy production")
    ax1.semilogy(N, [r["time_baseline_s"] for r in rows], "s--", label="SciPy BiCGSTAB+Jacobi (1 BLAS thread)")
    thr = [(r["N"], r["time_baseline_default_threads_s"]) for r in rows if r["time_baseline_default_threads_s"]]
    if thr:
        ax1.semilogy(*zip(*thr), "^:", label="SciPy BiCGSTAB+Jacobi (default BLAS threads)")
    ax1.set_xlabel("number of dots N")
    ax1.set_ylabel("time of one point [s]")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.semilogy(N, [r["peak_rss_GiB"] for r in rows], "o-", label="qdthermo peak RSS")
    ax2.semilogy(N, [r["limit_GiB"] for r in rows], "k--", label="target 0.4 GiB + 4 kB/state")
    ax2.set_xlabel("number of dots N")
    ax2.set_ylabel("peak memory [GiB]")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.suptitle("one point of a chain of N dots (2^N states)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(child(int(argv[1]))))
        return
    Ns = [int(a) for a in argv] or list(range(4, 21))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "large_networks.json"
    rows = {r["N"]: r for r in json.loads(out.read_text())["rows"]} if out.exists() and argv else {}
    for N in Ns:
        proc = subprocess.run([sys.executable, __file__, "--child", str(N)], capture_output=True, text=True,
                              check=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows[N] = row
        print(f"N={N:2d} states={row['states']:8d} qd={row['time_qdthermo_s']:8.3f}s "
              f"base={row['time_baseline_s']:8.3f}s ratio={row['ratio']:5.2f} "
              f"peak={row['peak_rss_GiB']:6.3f} GiB limit={row['limit_GiB']:6.3f} GiB "
              f"res={row['residual']:.1e} diff={row['max_abs_diff_vs_baseline']:.1e}", flush=True)
        ordered = [rows[k] for k in sorted(rows)]
        out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                   "rows": ordered}, indent=1) + "\n")
    plot([rows[k] for k in sorted(rows)], RESULTS / "large_networks.png")


if __name__ == "__main__":
    main(sys.argv[1:])
