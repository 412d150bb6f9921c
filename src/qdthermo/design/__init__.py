"""Engine and refrigerator design: global optimisation and Pareto fronts over device parameters.

A layer above :mod:`qdthermo.thermo` (it imports only the model and thermo
layers)::

    import qdthermo as qd
    opt = qd.optimize(qd.single_dot, maximize="power", vary={"eps": (-10, 10), "mu_L": (-5, 5)},
                      T={"L": 1.0, "R": 0.5}, mu={"L": 0.0, "R": 0.0}, gamma=1.0)
    opt.parameters, opt.value, opt.performance, opt.result, opt.on_bound
    front = qd.pareto(qd.single_dot, objectives=("power", "efficiency"),
                      vary={"eps": (-10, 10), "mu_L": (-5, 5)}, T={"L": 1.0, "R": 0.5}, mu=0.0)
    front.parameters, front.values, front.to_xarray()

Every candidate set is evaluated as one batch (one solve); see
:mod:`qdthermo.design.optimum` for the method.
"""

from qdthermo.design.front import ParetoFront, pareto
from qdthermo.design.optimum import Optimum, optimize

__all__ = ["Optimum", "ParetoFront", "optimize", "pareto"]
