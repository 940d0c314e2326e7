"""One contract per command: the engine's CLI and the Processing algorithm offer the same parameters.

Both sides are generated from `crops_engine.commands.<name>.SPEC`; these tests walk every command
and fail if a side gains, loses or changes a parameter (name, default, choices, range, required),
and if the engine's config defaults drift from the declared ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import pytest

from crops_engine.cli import build_parser
from crops_engine.command_spec import OUTPUT_KINDS, Command, Param, option
from crops_engine.commands import MODULES, command_specs

SPECS = command_specs()


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _cli_side(sub: argparse.ArgumentParser) -> dict[str, dict]:
    """{PARAM_NAME: {default, choices, required, min, max}} as the engine's argparse declares them."""
    found = {}
    for action in sub._actions:
        if not action.option_strings or action.dest == "help" or action.help == argparse.SUPPRESS:
            continue
        name = action.option_strings[0][2:].upper().replace("-", "_")
        found[name] = {
            "default": action.default,
            "choices": tuple(action.choices) if action.choices else (),
            "required": action.required,
            "range": _accepted_range(action),
        }
    return found


def _accepted_range(action: argparse.Action) -> tuple[float | None, float | None]:
    """The range the option's converter enforces (None: unbounded)."""
    return (getattr(action.type, "minimum", None), getattr(action.type, "maximum", None))


def test_every_command_has_a_module_and_unique_names():
    assert [s.name for s in SPECS] == list(MODULES)
    assert len({s.algorithm for s in SPECS}) == len(SPECS)
    assert len({s.context for s in SPECS}) == len(SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_cli_options_are_the_declaration(spec: Command):
    cli = _cli_side(_subparsers()[spec.name])
    declared = {p.name: p for p in spec.params if not p.hidden}
    assert sorted(cli) == sorted(declared), "the CLI gained or lost an option"
    for name, p in declared.items():
        side = cli[name]
        expected_default = p.default if p.kind not in ("list", "rasters") else (() if p.kind == "list" else [])
        assert side["default"] == expected_default, name
        assert side["choices"] == p.choices, name
        assert side["required"] == p.required, name
        if p.kind in ("int", "float"):
            lo, hi = side["range"]
            assert (lo is None) == (p.minimum is None) and (hi is None) == (p.maximum is None), name
            if p.minimum is not None:
                assert math.isclose(lo, p.minimum, abs_tol=1e-5), name
            if p.maximum is not None:
                assert math.isclose(hi, p.maximum, abs_tol=1e-5), name


def test_range_is_enforced_with_a_clear_message():
    from crops_engine.cli import UsageError

    with pytest.raises(UsageError, match="SIZE must be at least 32"):
        build_parser().parse_args(["sample-data", "--output-folder", "x", "--size", "8"])


def test_list_parameters_take_repeats_and_semicolons():
    args = build_parser().parse_args(["infer", "--model", "m", "--input", "i", "--output", "o",
                                      "--extra-bands", "a.tif@1; b.tif", "--extra-bands", "c.tif"])
    assert args.extra_bands == ("a.tif@1", "b.tif", "c.tif")


def test_option_names_follow_the_parameter_names():
    assert option("OUTPUT_FOLDER") == "--output-folder"
    for spec in SPECS:
        for p in spec.params:
            assert p.name == p.name.upper() and p.option == option(p.name)


def test_a_declaration_refuses_a_default_outside_its_choices():
    with pytest.raises(ValueError, match="not one of"):
        Param("X", "choice", "X", default="c", choices=("a", "b"))
    with pytest.raises(ValueError, match="declared twice"):
        Command(name="x", algorithm="x", context="X", display_name="X", group="tools", help="h",
                params=(Param("A", "int", "A", default=1), Param("A", "int", "A", default=2)))


# -- the engine's configuration defaults are the declared ones ------------------------------------------


def _config_cases():
    from crops_engine.partition import PartitionOptions
    from crops_engine.train import TrainConfig

    yield "train-source", TrainConfig, {}
    yield "partition", PartitionOptions, {}
    for method in ("entropy", "self_training", "spcl", "co_training"):
        from crops_engine.adapt import method_class

        command = "adapt-spcl" if method == "spcl" else "adapt"
        yield command, method_class(method).config_class, {"method": method}


def test_engine_config_defaults_are_the_declared_defaults():
    pytest.importorskip("torch")
    specs = {s.name: s for s in SPECS}
    checked = 0
    for command, config_class, _ in _config_cases():
        fields = {f.name: f for f in dataclasses.fields(config_class)}
        for p in specs[command].params:
            f = fields.get(p.dest)
            if f is None or p.default is None or p.kind in OUTPUT_KINDS or p.dest in ("resume",):
                continue
            if f.default is dataclasses.MISSING:
                continue
            assert f.default == p.default, f"{command} {p.name}: config {f.default!r}, declared {p.default!r}"
            checked += 1
    assert checked > 30


def test_adaptation_method_choices_are_the_registered_methods():
    pytest.importorskip("torch")
    from crops_engine.adapt import METHODS

    specs = {s.name: s for s in SPECS}
    assert set(specs["adapt"].param("METHOD").choices) | {"spcl"} == set(METHODS)


# -- the Processing side ------------------------------------------------------------------------------


def _qgis_side(spec: Command) -> dict[str, dict]:
    from crops.crops_qgis.algorithms import ALGORITHMS
    from qgis.core import QgsProcessingParameterDefinition

    cls = next(c for c in ALGORITHMS if c.SPEC.name == spec.name)
    alg = cls()
    alg.initAlgorithm()
    found = {}
    for d in alg.parameterDefinitions():
        flags = d.flags()
        entry = {"default": d.defaultValue(), "type": d.type(),
                 "optional": bool(flags & QgsProcessingParameterDefinition.FlagOptional),
                 "advanced": bool(flags & QgsProcessingParameterDefinition.FlagAdvanced)}
        if d.type() == "enum":
            entry["choices"] = tuple(d.options())
            entry["static"] = d.usesStaticStrings()
        if d.type() == "number":
            entry["range"] = (d.minimum(), d.maximum())
        found[d.name()] = entry
    return found


@pytest.mark.qgis
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_processing_parameters_are_the_cli_options(qgis_app, spec: Command):
    cli = _cli_side(_subparsers()[spec.name])
    qgis = _qgis_side(spec)
    assert sorted(qgis) == sorted(cli), "the Processing algorithm and the CLI differ in their parameters"
    for name, side in qgis.items():
        p = spec.param(name)
        assert side["advanced"] == p.advanced, name
        mandatory_without_default = not side["optional"] and side["default"] in (None, "")
        assert mandatory_without_default == cli[name]["required"], name
        if side["type"] == "enum":
            assert side["static"], f"{name}: choices must travel as static strings"
            assert side["choices"] == cli[name]["choices"], name
            assert side["default"] == cli[name]["default"], name
        elif side["type"] in ("number", "boolean"):
            assert side["default"] == cli[name]["default"], name
        if side["type"] == "number":
            lo, hi = cli[name]["range"]
            q_lo, q_hi = side["range"]
            assert (lo is None and q_lo < -1e300) or (lo is not None and math.isclose(q_lo, lo, abs_tol=1e-5)), name
            assert (hi is None and q_hi > 1e300) or (hi is not None and math.isclose(q_hi, hi, abs_tol=1e-5)), name


@pytest.mark.qgis
def test_choices_accept_static_strings_and_old_indices(qgis_app):
    from qgis.core import QgsApplication, QgsProcessingContext

    alg = QgsApplication.processingRegistry().createAlgorithmById("crops:sample_data")
    context = QgsProcessingContext()
    base = {"OUTPUT_FOLDER": "/tmp/x", "SIZE": 64}
    assert alg.checkParameterValues({**base, "PRESET": "source"}, context)[0]
    assert alg.checkParameterValues({**base, "PRESET": 1}, context)[0]  # an index, as saved models hold
    assert alg.checkParameterValues({**base, "PRESET": "1"}, context)[0]
    ok, message = alg.checkParameterValues({**base, "PRESET": "sourcee"}, context)
    assert not ok and "PRESET" in message
    argv, _ = alg.engine_arguments({**base, "PRESET": 2}, context)
    assert argv[argv.index("--preset") + 1] == "target"


@pytest.mark.qgis
def test_a_typed_empty_extent_reaches_the_engine_and_an_unset_one_does_not(qgis_app):
    from qgis.core import QgsApplication, QgsProcessingContext

    alg = QgsApplication.processingRegistry().createAlgorithmById("crops:build_blocks")
    context = QgsProcessingContext()
    base = {"COMPOSITE": "/nonexistent.tif", "OUTPUT": "/tmp/b.h5"}
    argv, _ = alg.engine_arguments({**base, "EXTENT": "540500,540500,5649000,5649000 [EPSG:32631]"}, context)
    assert argv[argv.index("--extent") + 1].startswith("540500.0,540500.0,5649000.0,5649000.0")
    argv, _ = alg.engine_arguments({**base, "EXTENT": None}, context)
    assert "--extent" not in argv
