"""``qdthermo plot STORE VAR [--sel DIM=VALUE ...] [--out FILE.png]``: a 1-D or 2-D slice of a sweep."""

from __future__ import annotations

import click

__all__ = ["plot"]


def _parse_sel(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        dim, sep, value = item.partition("=")
        if not sep or not dim.strip() or not value.strip():
            raise click.BadParameter(f"{item!r}: expected DIM=VALUE, e.g. lead=t or F_N=0.5", param_hint="--sel")
        out[dim.strip()] = value.strip()
    return out


@click.command("plot")
@click.argument("store", type=click.Path(exists=True, file_okay=False))
@click.argument("var")
@click.option("--sel", "sel", multiple=True, metavar="DIM=VALUE",
              help="Select a value of a dimension (nearest for numbers, exact for labels); repeatable. "
                   "Every dimension beyond two must be selected.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="Image file to write (format from the suffix; default VAR.png).")
@click.option("--dpi", type=click.IntRange(min=10), default=150, show_default=True, help="Resolution.")
def plot(store: str, var: str, sel: tuple[str, ...], out: str | None, dpi: int) -> None:
    """Draw variable VAR of the sweep STORE as a line (1-D) or colour map (2-D)."""
    from qdthermo.plot import plot_slice

    selection = _parse_sel(sel)
    try:
        fig = plot_slice(store, var, **selection)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    path = out or f"{var}.png"
    fig.savefig(path, dpi=dpi)
    click.echo(f"wrote {path}")
