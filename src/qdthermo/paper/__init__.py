"""Reproduction of Ghosh, Gupt & Ghosh, "Inverse Current in Coupled Transport" (arXiv:2405.01295).

``qdthermo paper --out DIR`` (:mod:`qdthermo.paper.command`) runs
:func:`qdthermo.paper.pipeline.run`: the figure modules (:mod:`~qdthermo.paper.fig1`,
:mod:`~qdthermo.paper.fig3`, :mod:`~qdthermo.paper.fig4`, :mod:`~qdthermo.paper.fig5`,
:mod:`~qdthermo.paper.devices`, :mod:`~qdthermo.paper.conditions`) solve the device and
write NetCDF data plus PNG and SVG/PDF figures; :mod:`~qdthermo.paper.claims` decides
every claim of PHYSICS.md section 10 from those data; :mod:`~qdthermo.paper.report`
writes ``report.md`` and ``report.html``.  Parameters: :class:`~qdthermo.paper.config.PaperConfig`.
"""
