"""Device descriptions and their many-body systems."""

from qdthermo.model.arrays import dot_array
from qdthermo.model.device import Coupling, Device, Dot, Interaction, Lead
from qdthermo.model.presets import coupled_transport, sanchez_buttiker, single_dot, three_terminal
from qdthermo.model.system import System

__all__ = [
    "Coupling", "Device", "dot_array", "Dot", "Interaction", "Lead", "System",
    "coupled_transport", "sanchez_buttiker", "single_dot", "three_terminal",
]
