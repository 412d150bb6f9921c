"""``qdthermo sweep CONFIG.toml --out STORE``: run a sweep described by a TOML file into a Zarr store."""

from __future__ import annotations

import click

__all__ = ["sweep"]


@click.command("sweep")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "-o", "out", required=True, type=click.Path(),
              help="Zarr store to write (an existing store of the same sweep is resumed).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="'local' (a new Dask LocalCluster) or a Dask scheduler address such as "
                   "tcp://host:8786; default: one process per local core.  Overrides the file.")
@click.option("--chunk-points", type=click.IntRange(min=1), default=None,
              help="Points per chunk (overrides the file; default 65536).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def sweep(config: str, out: str, scheduler: str | None, chunk_points: int | None, progress: bool) -> None:
    """Sweep a preset over the grid described in CONFIG (TOML; schema in docs/sweeps.md)."""
    from qdthermo.sweep.config import load_config
    from qdthermo.sweep.run import sweep as run_sweep

    try:
        cfg = load_config(config)
        ds = run_sweep(cfg.preset, store=out, chunk_points=chunk_points or cfg.chunk_points,
                       scheduler=scheduler or cfg.scheduler, progress=progress, **cfg.parameters)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    shape = " x ".join(f"{d} {n}" for d, n in ds.sizes.items() if d in ds.attrs["swept_parameters"].split())
    click.echo(f"wrote {shape or 'one point'} of {cfg.preset} to {out}")
