"""crops:adapt: source-free baseline adaptation (entropy minimisation or self-training)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
)

from .base import CropsAlgorithm

METHODS = ["entropy", "self_training"]
SPLITS = ["all", "easy", "hard"]
PARAMETER_SETS = ["norm", "encoder", "all"]
PRIORS = ["uniform", "source"]


class AdaptAlgorithm(CropsAlgorithm):
    NAME = "adapt"
    COMMAND = "adapt"
    GROUP = "adaptation"
    HELP_ANCHOR = "adapt"

    def displayName(self) -> str:
        return self.tr("Adapt (baselines)")

    def shortHelpString(self) -> str:
        return self.tr(
            "Adapts a source model to the target area without any source data, with a baseline method (to "
            "measure what SPCL adds).\n\n"
            "entropy: entropy minimisation with a diversity term (Tent / SHOT). Parameters: norm (only the "
            "normalisation layers, Tent), encoder (all but the heads, SHOT) or all. The diversity term, times "
            "Diversity weight, keeps the batch's class shares near equal shares (prior uniform) or near the "
            "source model's shares on the target (source).\n"
            "self_training: a teacher (moving average of the student, momentum EMA) labels target pixels whose "
            "confidence reaches a per-class threshold: each class keeps its most confident Portion of pixels, "
            "never demanding more than Confidence threshold; thresholds are refreshed in each of Rounds rounds. "
            "The student learns them from a jittered view. The teacher is the adapted model.\n\n"
            "Blocks: all target blocks, or the easy / hard split of Partition. Learning rate empty: the "
            "method's default (entropy 0.001, self_training 0.00003).\n"
            "Output: the adapted model (.safetensors; provenance: the source model's SHA-256, the target store "
            "and every hyper-parameter). Beside it: name.adapt.json (configuration and loss history) and "
            "name.resume.safetensors (give it to Resume to continue). Cancel keeps the last complete checkpoint."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(QgsProcessingParameterEnum("METHOD", self.tr("Method"), options=METHODS, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterFile("MODEL", self.tr("Source model"), fileFilter="Model (*.safetensors)")
        )
        self.addParameter(QgsProcessingParameterFile("BLOCKS", self.tr("Target block store"), extension="h5"))
        self.addParameter(QgsProcessingParameterEnum("SPLIT", self.tr("Blocks"), options=SPLITS, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterNumber("ITERATIONS", self.tr("Iterations"), QgsProcessingParameterNumber.Integer,
                                         300, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("BATCH_SIZE", self.tr("Batch size (blocks)"),
                                         QgsProcessingParameterNumber.Integer, 8, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("LR", self.tr("Learning rate (empty: the method's default)"),
                                         QgsProcessingParameterNumber.Double, None, optional=True, minValue=0.0)
        )
        self.addParameter(self.device_parameter())
        self.addParameter(self.seed_parameter())
        self.addParameter(self.adaptation_resume_parameter())
        advanced = [
            QgsProcessingParameterEnum("PARAMETERS", self.tr("entropy: parameters to train"), options=PARAMETER_SETS,
                                       defaultValue=0),
            QgsProcessingParameterNumber("DIVERSITY_WEIGHT", self.tr("entropy: diversity weight"),
                                         QgsProcessingParameterNumber.Double, 1.0, minValue=0.0),
            QgsProcessingParameterEnum("DIVERSITY_PRIOR", self.tr("entropy: diversity prior"), options=PRIORS,
                                       defaultValue=0),
            QgsProcessingParameterNumber("EMA", self.tr("self_training: teacher EMA momentum"),
                                         QgsProcessingParameterNumber.Double, 0.99, minValue=0.0, maxValue=0.999999),
            QgsProcessingParameterNumber("CONF_THRESHOLD", self.tr("self_training: confidence threshold (highest)"),
                                         QgsProcessingParameterNumber.Double, 0.9, minValue=0.0001, maxValue=1.0),
            QgsProcessingParameterNumber("PORTION", self.tr("self_training: share of each class pseudo-labelled"),
                                         QgsProcessingParameterNumber.Double, 0.5, minValue=0.0001, maxValue=1.0),
            QgsProcessingParameterNumber("ROUNDS", self.tr("self_training: rounds"),
                                         QgsProcessingParameterNumber.Integer, 3, minValue=1),
            QgsProcessingParameterNumber("JITTER", self.tr("self_training: photometric jitter"),
                                         QgsProcessingParameterNumber.Double, 0.1, minValue=0.0),
            QgsProcessingParameterNumber("CALIBRATION_BLOCKS", self.tr("Blocks of the initial calibration pass"),
                                         QgsProcessingParameterNumber.Integer, 64, minValue=1),
            *self.optimisation_parameters(checkpoints=True),
        ]
        self.add_advanced(advanced)
        self.add_adaptation_outputs()
