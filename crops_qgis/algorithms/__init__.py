"""The algorithms the `crops` provider offers; one file each."""

from .adapt import AdaptAlgorithm
from .adapt_spcl import AdaptSpclAlgorithm
from .build_blocks import BuildBlocksAlgorithm
from .diagnostics import DiagnosticsAlgorithm
from .evaluate import EvaluateAlgorithm
from .infer import InferAlgorithm
from .ndvi_qm import NdviQmAlgorithm
from .partition import PartitionAlgorithm
from .sample_data import SampleDataAlgorithm
from .train_source import TrainSourceAlgorithm

ALGORITHMS = [
    DiagnosticsAlgorithm,
    NdviQmAlgorithm,
    SampleDataAlgorithm,
    BuildBlocksAlgorithm,
    TrainSourceAlgorithm,
    PartitionAlgorithm,
    AdaptAlgorithm,
    AdaptSpclAlgorithm,
    InferAlgorithm,
    EvaluateAlgorithm,
]
