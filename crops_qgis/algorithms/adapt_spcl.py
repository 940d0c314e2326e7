"""crops:adapt_spcl: source-free SPCL adaptation of a source model to a partitioned target block store."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from .base import CropsAlgorithm

DEVICES = ["auto", "cpu", "cuda"]
HARD_SCHEDULES = ["linear", "constant"]
MIX_WEIGHTINGS = ["confidence", "share"]


class AdaptSpclAlgorithm(CropsAlgorithm):
    NAME = "adapt_spcl"
    COMMAND = "adapt-spcl"
    GROUP = "adaptation"
    HELP_ANCHOR = "adapt-spcl"

    def displayName(self) -> str:
        return self.tr("Adapt with SPCL")

    def shortHelpString(self) -> str:
        return self.tr(
            "Adapts a source model to the target area without any source data: Semantic Prototypical "
            "Contrastive Learning on a target block store split into easy and hard blocks (run Partition first).\n\n"
            "A teacher (an exponential moving average of the student, momentum EMA) labels an easy and a hard "
            "batch each step. Class prototypes are the running means of the teacher's embeddings of easy pixels "
            "it is confident about (confidence >= Confidence threshold), started with one pass over the easy "
            "blocks. The student learns a ClassMix of easy-block classes pasted onto hard blocks, each pixel "
            "weighted by the teacher's confidence, plus Contrastive weight x a prototype contrastive loss on "
            "confident hard pixels (Temperature scales the similarities). Hard schedule linear starts with half "
            "hard blocks in the hard batch and ends with only hard blocks; constant uses hard blocks throughout.\n\n"
            "Output: the adapted model (.safetensors, the teacher; its provenance names the source model's "
            "SHA-256, the target store and every hyper-parameter). Beside it: name.adapt.json (configuration, "
            "loss per step, prototype norms and pseudo-label class shares: a class whose share keeps falling "
            "warns of collapse) and name.resume.safetensors. Resume: give that file to continue. Cancel keeps "
            "the last complete checkpoint. Map with the adapted model using Classify (crops:infer)."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterFile("MODEL", self.tr("Source model"), fileFilter="Model (*.safetensors)")
        )
        self.addParameter(
            QgsProcessingParameterFile("BLOCKS", self.tr("Target block store (partitioned)"), extension="h5")
        )
        self.addParameter(
            QgsProcessingParameterNumber("ITERATIONS", self.tr("Iterations"), QgsProcessingParameterNumber.Integer,
                                         300, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("BATCH_SIZE", self.tr("Batch size (easy and hard blocks each)"),
                                         QgsProcessingParameterNumber.Integer, 8, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("LR", self.tr("Learning rate"), QgsProcessingParameterNumber.Double, 0.0001,
                                         minValue=0.0)
        )
        self.addParameter(
            QgsProcessingParameterNumber("EMA", self.tr("Teacher EMA momentum"), QgsProcessingParameterNumber.Double,
                                         0.999, minValue=0.0, maxValue=0.999999)
        )
        self.addParameter(
            QgsProcessingParameterNumber("TEMPERATURE", self.tr("Temperature"), QgsProcessingParameterNumber.Double,
                                         0.1, minValue=0.0001)
        )
        self.addParameter(
            QgsProcessingParameterNumber("CONF_THRESHOLD", self.tr("Confidence threshold"),
                                         QgsProcessingParameterNumber.Double, 0.9, minValue=0.0, maxValue=0.9999)
        )
        self.addParameter(
            QgsProcessingParameterNumber("LAMBDA_CONTRAST", self.tr("Contrastive weight"),
                                         QgsProcessingParameterNumber.Double, 0.1, minValue=0.0)
        )
        self.addParameter(
            QgsProcessingParameterEnum("HARD_SCHEDULE", self.tr("Hard schedule"), options=HARD_SCHEDULES,
                                       defaultValue=0)
        )
        self.addParameter(QgsProcessingParameterEnum("DEVICE", self.tr("Device"), options=DEVICES, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterNumber("SEED", self.tr("Random seed"), QgsProcessingParameterNumber.Integer, 0)
        )
        self.addParameter(
            QgsProcessingParameterFile("RESUME", self.tr("Resume from (resume state or adapted model)"),
                                       optional=True, fileFilter="safetensors (*.safetensors)")
        )
        advanced = [
            QgsProcessingParameterNumber("HARD_START", self.tr("Share of hard blocks at the start (linear)"),
                                         QgsProcessingParameterNumber.Double, 0.5, minValue=0.0, maxValue=1.0),
            QgsProcessingParameterEnum("MIX_WEIGHTING", self.tr("ClassMix pixel weight"), options=MIX_WEIGHTINGS,
                                       defaultValue=0),
            QgsProcessingParameterNumber("EASY_WEIGHT", self.tr("Easy-block pseudo-label weight (0: off)"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterNumber("JITTER", self.tr("Photometric jitter of the mixed view"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterNumber("INIT_BLOCKS", self.tr("Easy blocks for the first prototypes (0: all)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("WEIGHT_DECAY", self.tr("Weight decay"), QgsProcessingParameterNumber.Double,
                                         0.0001, minValue=0.0),
            QgsProcessingParameterNumber("WARMUP", self.tr("Warm-up (fraction of the steps)"),
                                         QgsProcessingParameterNumber.Double, 0.05, minValue=0.0, maxValue=0.99),
            QgsProcessingParameterBoolean("AMP", self.tr("Mixed precision on CUDA"), True),
            QgsProcessingParameterNumber("CHECKPOINT_EVERY", self.tr("Checkpoint every N steps (0: every 2 minutes)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("THREADS", self.tr("CPU threads (0: all)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
        ]
        for parameter in advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Adapted model"), self.tr("Model (*.safetensors)"))
        )
        self.addOutput(QgsProcessingOutputFile("LOG", self.tr("Adaptation log (JSON)")))
        self.addOutput(QgsProcessingOutputFile("RESUME_STATE", self.tr("Resume state")))
        self.addOutput(QgsProcessingOutputNumber("STEPS", self.tr("Steps done")))
        self.addOutput(QgsProcessingOutputNumber("FINAL_LOSS", self.tr("Final loss")))
