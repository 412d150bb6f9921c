"""Device descriptions and their many-body systems."""

from qdthermo.model.arrays import dot_array
from qdthermo.model.device import Coupling, Device, Dot, Interaction, Lead, Tunnel
from qdthermo.model.presets import coupled_transport, sanchez_buttiker, single_dot, three_terminal
from qdthermo.model.serial import serial_double_dot
from qdthermo.model.system import System

__all__ = [
    "Coupling", "Device", "dot_array", "Dot", "Interaction", "Lead", "System", "Tunnel",
    "coupled_transport", "sanchez_buttiker", "serial_double_dot", "single_dot", "three_terminal",
]
