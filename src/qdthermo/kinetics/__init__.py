"""Kinetics layer: numerical engines on Markov generators given as directed jump networks.

The lowest layer of qdthermo: these modules import only NumPy and SciPy.

* :mod:`qdthermo.kinetics.group_inverse` - the group (Drazin) inverse of batched generators;
* :mod:`qdthermo.kinetics.counting` - full counting statistics: tilted generators, scaled
  cumulants of any order, joint cumulants, finite-frequency noise.
"""
