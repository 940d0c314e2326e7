"""The algorithms the `crops` provider offers: one per engine command, made from its declaration."""

from ...crops_engine.commands import command_specs
from .base import CropsAlgorithm, algorithm_class

ALGORITHMS: list[type[CropsAlgorithm]] = [algorithm_class(spec) for spec in command_specs()]
