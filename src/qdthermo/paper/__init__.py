"""Reproduction of Ghosh, Gupt & Ghosh, "Inverse Current in Coupled Transport" (arXiv:2405.01295).

``qdthermo paper --out DIR`` (:mod:`qdthermo.paper.command`, which chooses the Agg
backend) runs :func:`qdthermo.paper.pipeline.run`, a declared pipeline
(:data:`~qdthermo.paper.pipeline.STEPS`):

* **data** - each figure module (:mod:`~qdthermo.paper.fig1`, :mod:`~qdthermo.paper.fig3`,
  :mod:`~qdthermo.paper.fig4`, :mod:`~qdthermo.paper.fig5`, :mod:`~qdthermo.paper.devices`,
  :mod:`~qdthermo.paper.conditions`) has a ``compute`` that solves the device through the one
  chunked grid solver :func:`qdthermo.paper._common.solve_grid` and returns xarray Datasets
  (written as NetCDF) plus residual diagnostics;
* **figures** - each module's ``plot(dataset, cfg)`` is a pure function of its Dataset that
  returns a :class:`matplotlib.figure.Figure` (no pyplot, no global rcParams: the style is
  applied with ``rc_context``); regimes use the palette of :mod:`qdthermo.plot.palette`;
* **claims** - :mod:`~qdthermo.paper.claims` decides every claim of PHYSICS.md section 10 from
  those Datasets, one small function per claim in :data:`~qdthermo.paper.claims.CLAIMS`;
* **report** - :mod:`~qdthermo.paper.report` writes ``report.md`` and renders it to
  ``report.html`` with markdown-it-py.

Everything is written into a temporary folder beside ``DIR`` that replaces ``DIR`` only at
the end, so an interrupted run leaves an earlier output untouched.  Parameters:
:class:`~qdthermo.paper.config.PaperConfig`.
"""
