"""The preset registry and the parameter language shared by point, sweep and paper."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import qdthermo as qd
from qdthermo.model import parameters as lang
from qdthermo.model.presets import PRESETS, preset_function
from qdthermo.model.registry import REGISTRY, ParameterSpec, format_value, preset_spec, register_preset
from qdthermo.units import ENERGY


def test_every_preset_is_registered_with_its_signature() -> None:
    assert list(PRESETS) == ["three_terminal", "coupled_transport", "single_dot", "sanchez_buttiker"]
    for name in PRESETS:
        spec = REGISTRY[name]
        assert spec.function is getattr(qd, name)
        assert spec.names == tuple(inspect.signature(spec.function).parameters)
        for p in spec.parameters:
            assert p.long_name and (p.units or p.is_string)
    tt = REGISTRY["three_terminal"]
    assert tt.leads == ("t", "b", "r") and tt.dots == ("L", "R") and tt.required == ("eps_L", "eps_R")
    assert tt["T"].per_lead and tt["gamma"].per_transition and not tt["U"].per_lead
    assert tt["T"].default == 1.0 and tt["T"].range_text("T_t") == "0 < T_t < inf"
    assert REGISTRY["sanchez_buttiker"]["asymmetry"].range_text() == "-1 <= asymmetry <= 1"
    assert preset_function("single_dot") == ("single_dot", qd.single_dot)
    assert preset_function(qd.single_dot)[0] == "single_dot"


def test_registering_a_preset_is_one_decorator() -> None:
    @register_preset(leads=("L", "R"), dots=("dot",), parameters=[
        ParameterSpec("eps", ENERGY, "level energy"),
        ParameterSpec("T", ENERGY, "temperature", low=0.0, per_lead=True),
    ])
    def toy_dot(eps: float, T: float = 1.0) -> qd.Device:
        return qd.single_dot(eps, T=T)

    try:
        assert "toy_dot" in PRESETS and preset_spec(toy_dot) is REGISTRY["toy_dot"]
        assert REGISTRY["toy_dot"]["T"].default == 1.0  # read from the signature
        kwargs = lang.to_kwargs(REGISTRY["toy_dot"], {"eps": 0.5, "T_L": 2.0})
        assert kwargs == {"eps": 0.5, "T": {"L": 2.0, "R": 1.0}}
        ds = qd.sweep(toy_dot, eps=[0.0, 1.0], scheduler="serial", progress=False)
        assert ds.eps.attrs["units"] == ENERGY
    finally:
        REGISTRY._specs.pop("toy_dot")
    with pytest.raises(ValueError, match="do not match the signature"):
        register_preset(leads=(), dots=(), parameters=[])(lambda x: x)


@pytest.mark.parametrize(
    ("name", "key"),
    [("eps_L", lang.Key("eps_L")), ("T_t", lang.Key("T", "t")), ("gamma_r", lang.Key("gamma", "r")),
     ("gamma_t[1->2]", lang.Key("gamma", "t", "1->2"))],
)
def test_names(name: str, key: lang.Key) -> None:
    assert lang.resolve_name(REGISTRY["three_terminal"], name) == key
    assert key.name == name


def test_legacy_spellings() -> None:
    spec = REGISTRY["three_terminal"]
    assert lang.legacy_name(spec, "T.t") == "T_t"
    assert lang.legacy_name(spec, "gamma.t.3->4") == "gamma_t[3->4]"
    with pytest.raises(lang.ParameterError, match="takes one number"):
        lang.legacy_name(spec, "U.t")


def test_partial_tables_default_or_list_every_lead() -> None:
    spec = REGISTRY["three_terminal"]
    flat = lang.flatten_table(spec, {"eps_L": 1.0, "eps_R": 1.0, "mu": {"t": 0.2}, "T": {"t": 2.0}})
    kwargs = lang.to_kwargs(spec, flat)
    assert kwargs["mu"] == {"t": 0.2, "b": 0.0, "r": 0.0} and kwargs["T"] == {"t": 2.0, "b": 1.0, "r": 1.0}
    # no default: every lead is needed, and the message lists them
    needy = REGISTRY["three_terminal"]
    strict = ParameterSpec("T", ENERGY, "temperature", per_lead=True)
    object.__setattr__(needy, "_by_name", {**needy._by_name, "T": strict})
    try:
        with pytest.raises(lang.ParameterError, match=r"T: no value for lead 'b'; .*needs every lead: T_t, T_b, T_r"):
            lang.to_kwargs(needy, {"eps_L": 1.0, "eps_R": 1.0, "T_t": 2.0})
    finally:
        object.__setattr__(needy, "_by_name", {p.name: p for p in needy.parameters})


def test_set_replaces_and_refines() -> None:
    spec = REGISTRY["three_terminal"]
    entries: dict = {}
    for text in ("T_t=3", "T=2", "T_b=0.5", "gamma_t[1->2]=0.1"):
        name, raw = lang.split_assignment(text)
        lang.set_entry(spec, entries, lang.resolve_name(spec, name), lang.parse_text_value(raw))
    assert entries == {"T": 2, "T_b": 0.5, "gamma_t[1->2]": 0.1}
    kwargs = lang.to_kwargs(spec, {"eps_L": 1.0, "eps_R": 1.0, **entries})
    assert kwargs["T"] == {"t": 2, "b": 0.5, "r": 2}
    assert kwargs["gamma"] == {"t": 1.0, ("t", "1->2"): 0.1, "b": 1.0, "r": 1.0}
    sb = REGISTRY["sanchez_buttiker"]  # T and T_hot are different parameters
    e: dict = {"T_hot": 3.0}
    lang.set_entry(sb, e, lang.resolve_name(sb, "T"), 1.5)
    assert e == {"T_hot": 3.0, "T": 1.5}


@pytest.mark.parametrize(
    ("value", "message"),
    [(math.nan, "T_t = nan: must be a finite number"), (math.inf, "T_t = inf: must be a finite number"),
     (-1.0, "T_t = -1.0: must be positive (allowed range: 0 < T_t < inf)"),
     (np.array([1.0, 0.0]), "T_t = 0.0: must be positive")],
)
def test_range_errors_name_parameter_value_and_range(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        REGISTRY["three_terminal"]["T"].check(value, "T_t")
    assert str(info.value).startswith(message)
    assert "-inf <" not in str(info.value)


def test_format_value_is_plain() -> None:
    assert format_value(np.float64("nan")) == "nan"
    assert format_value(np.float64(2.5)) == "2.5"
    assert format_value(np.int64(3)) == "3"
    assert format_value([np.float64(1.0), "b"]) == "[1.0, 'b']"
