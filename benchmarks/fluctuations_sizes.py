"""Counting statistics by batch size: the NumPy and compiled engines, and the cost of a first compiled call.

What ``engine="auto"`` of ``qd.fluctuations`` weighs (``thermo.counting_statistics.COMPILED_MIN_POINTS``
and ``COMPILED_WARM_MIN_POINTS``): the paper's device at random points, C1 and C2 of eight quantities
(``qd.fluctuations(device, order=2, counting=[N_t, N_b, N_r, E_t, E_b, E_r, J_E, J_N], engine=...)`` and
the 16 ``cumulant`` reads), best of ``--repeat``, both engines in the same process, for 100 to 10^5
points (``method="auto"``: the steady state by the matrix tree, as ``auto`` solves these sizes).  The first
compiled call of the process (Numba's import and set-up, the kernel's cache load) is timed first, in a fresh
process.

Usage::

    python benchmarks/fluctuations_sizes.py             # C1, C2
    python benchmarks/fluctuations_sizes.py --order 4   # C1 ... C4 (from order 3 the engines agree to round-off)

Writes ``benchmarks/results/fluctuations_sizes.json`` (``fluctuations_sizes_order<K>.json`` for ``--order K``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import qdthermo as qd

NAMES = ["N_t", "N_b", "N_r", "E_t", "E_b", "E_r", "J_E", "J_N"]
OUT = Path(__file__).resolve().parent / "results" / "fluctuations_sizes.json"


def device(n: int) -> qd.Device:
    """The paper's device at ``n`` random points."""
    rng = np.random.default_rng(0)
    return qd.three_terminal(eps_L=rng.uniform(0.5, 2.0, n), eps_R=rng.uniform(0.5, 2.0, n),
                             U=rng.uniform(0.0, 3.0, n), J=rng.uniform(0.0, 1.0, n),
                             T={lead: rng.uniform(0.5, 3.0, n) for lead in "tbr"},
                             mu={lead: rng.uniform(-1.0, 1.0, n) for lead in "tbr"},
                             gamma={lead: rng.uniform(0.5, 2.0, n) for lead in "tbr"})


def statistics(dev: qd.Device, engine: str, order: int = 2) -> str:
    """C1 ... C_order of the eight quantities; the route that computed them."""
    fl = qd.fluctuations(dev, order=order, counting=NAMES, engine=engine)
    [fl.cumulant(k, q) for k in range(1, order + 1) for q in NAMES]
    return str(getattr(fl, "route", "coherent"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--order", type=int, default=2, help="highest cumulant")
    order = parser.parse_args().order
    t0 = time.perf_counter()
    statistics(device(100), "compiled", order)
    first = time.perf_counter() - t0
    rows = []
    for n in (100, 1_000, 10_000, 100_000):
        dev = device(n)
        row: dict[str, object] = {"points": n}
        for engine in ("numpy", "compiled"):
            best = np.inf
            for _ in range(3):
                t0 = time.perf_counter()
                route = statistics(dev, engine, order)
                best = min(best, time.perf_counter() - t0)
            row[f"{engine}_seconds"] = best
            row[f"{engine}_route"] = route
        row["numpy_over_compiled"] = float(row["numpy_seconds"]) / float(row["compiled_seconds"])  # type: ignore[arg-type]
        rows.append(row)
        print(row)
    out = OUT if order == 2 else OUT.with_name(f"fluctuations_sizes_order{order}.json")
    write_record(out, __doc__, "python benchmarks/fluctuations_sizes.py" + (f" --order {order}" if order != 2 else ""),
                 first, rows)


def write_record(out: Path, doc: str | None, command: str, first: float | None, rows: list[dict[str, object]]) -> None:
    """The results by batch size, with the machine, the command and (if given) the first compiled call's time,
    as JSON."""
    record: dict[str, object] = {
        "benchmark": doc.splitlines()[0] if doc else "", "command": command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average": list(os.getloadavg())}}
    if first is not None:
        record["first_compiled_call_in_process_seconds"] = first
    record["sizes"] = rows
    out.write_text(json.dumps(record, indent=1) + "\n")
    print((f"first compiled call of the process: {first:.2f} s; " if first is not None else "") + f"written to {out}")

if __name__ == "__main__":
    main()
