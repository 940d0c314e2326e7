"""The algorithms the `crops` provider offers; one file each."""

from .diagnostics import DiagnosticsAlgorithm
from .sample_data import SampleDataAlgorithm

ALGORITHMS = [
    DiagnosticsAlgorithm,
    SampleDataAlgorithm,
]
