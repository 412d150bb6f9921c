"""Run the whole reproduction: figures, data, claims, report (what ``qdthermo paper`` does).

>>> from qdthermo.paper.config import PaperConfig, QUICK     # doctest: +SKIP
>>> run(PaperConfig().replace(**QUICK), Path("out"))        # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qdthermo.paper.claims import Claim, PaperData, evaluate
from qdthermo.paper.config import QUICK, PaperConfig, load_toml, parse_set

__all__ = ["PaperRun", "build_config", "run"]


@dataclass(frozen=True)
class PaperRun:
    """Outcome of :func:`run`."""

    cfg: PaperConfig
    claims: list[Claim]
    notes: list[str]
    files: list[Path]
    timings: Mapping[str, float]
    data: PaperData | None = None

    @property
    def passed(self) -> bool:
        """True when every claim passes."""
        return all(c.passed for c in self.claims)

    def summary(self) -> str:
        """One line: how many claims pass, which fail."""
        n = sum(c.passed for c in self.claims)
        failed = [c.key for c in self.claims if not c.passed]
        text = f"{n}/{len(self.claims)} claims PASS"
        return text + (f"; FAILED: {', '.join(failed)}" if failed else "")


def build_config(quick: bool = False, config_file: str | Path | None = None,
                 overrides: tuple[str, ...] | list[str] = ()) -> PaperConfig:
    """Defaults, then ``--quick``, then the TOML file, then ``--set`` (later wins).

    The F~_E windows (``fe_max``, ``quad_fe``, ``line_fe_max``) that are not
    given scale with ``eps_L/T_b`` (F~_E < eps_L/T_b keeps T_t finite): the
    defaults are 0.9, 0.9 and 0.95 of that limit.

    Raises
    ------
    ValueError
        Naming the offending parameter (unknown name, wrong type, out of range).
    """
    changes: dict[str, Any] = dict(QUICK) if quick else {}
    if config_file is not None:
        changes.update(load_toml(config_file))
    changes.update(parse_set(overrides))
    base = PaperConfig()
    # F~_E must stay below eps_L/T_b: F~_E windows not given follow that limit (defaults are for eps_L/T_b = 1)
    limit = changes.get("eps_L", base.eps_L) / changes.get("T_b", base.T_b)
    ref = base.eps_L / base.T_b
    for name in ("fe_max", "quad_fe", "line_fe_max"):
        if name not in changes:
            changes[name] = getattr(base, name) * limit / ref
    return base.replace(**changes)


def run(cfg: PaperConfig, out: Path, *, progress: bool = True, command: str = "qdthermo paper") -> PaperRun:
    """Compute every figure and dataset into ``out``, evaluate the claims, write the report."""
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    from qdthermo.paper import conditions, devices, fig1, fig3, fig4, fig5, report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    timings: dict[str, float] = {}
    store: dict[str, Any] = {}
    diags: dict[str, Mapping[str, float]] = {}

    def s_fig1() -> None:
        store["levels"], paths = fig1.run(cfg, out)
        files.extend(paths)

    def s_fig3() -> None:
        store["plane"], diags["FIG. 3"], paths = fig3.run(cfg, out)
        files.extend(paths)

    def s_fig4() -> None:
        store["cuts"], diags["FIG. 4"], paths = fig4.run(cfg, out)
        files.extend(paths)

    def s_fig5() -> None:
        store["icc"], diags["FIG. 5"], store["icc_result"], paths = fig5.run(cfg, out)
        files.extend(paths)

    def s_devices() -> None:
        store["devices"], paths = devices.run(cfg, out, store["icc"], store.pop("icc_result"))
        files.extend(paths)

    def s_conditions() -> None:
        store["conditions"], store["random"], diags["conditions + random scan"], paths = conditions.run(cfg, out)
        files.extend(paths)

    def s_claims() -> None:
        data = PaperData(cfg=cfg, levels=store["levels"], plane=store["plane"], cuts=store["cuts"],
                         icc=store["icc"], devices=store["devices"], conditions=store["conditions"],
                         random=store["random"], diagnostics=diags)
        store["data"] = data
        store["claims"], store["notes"] = evaluate(data)
        cfg_path = out / "config.toml"
        cfg_path.write_text(cfg.to_toml(), encoding="utf-8")
        files.append(cfg_path)

    steps: list[tuple[str, Callable[[], None]]] = [
        ("FIG. 1 levels", s_fig1), ("FIG. 3 force plane", s_fig3), ("FIG. 4 one force", s_fig4),
        ("FIG. 5 ICC regions", s_fig5), ("engine/refrigerator", s_devices), ("ICC conditions", s_conditions),
        ("claims", s_claims),
    ]
    with tqdm(total=len(steps) + 1, desc="qdthermo paper", unit="step", disable=not progress,
              file=sys.stderr, leave=True) as bar:
        for name, step in steps:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            step()
            timings[name] = time.perf_counter() - t0
            bar.update()
        bar.set_postfix_str("report")
        report_files = report.write(out, cfg, store["claims"], store["notes"], store["data"], files, timings,
                                    command)
        bar.update()
    files.extend(report_files)
    return PaperRun(cfg=cfg, claims=store["claims"], notes=store["notes"], files=files, timings=timings,
                    data=store["data"])
