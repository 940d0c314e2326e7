"""crops:adapt_spcl: source-free SPCL adaptation of a source model to a partitioned target block store."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
)

from .base import CropsAlgorithm

HARD_SCHEDULES = ["constant", "linear"]
MIX_WEIGHTINGS = ["share", "confidence"]


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
            "The source model's BatchNorm statistics are first re-estimated on the target blocks. A teacher (an "
            "exponential moving average of the student, momentum EMA) then labels an easy and a hard batch each "
            "step. Class prototypes are the running means of the teacher's embeddings of easy pixels it is "
            "confident about (confidence >= Confidence threshold), started with one pass over the easy blocks. "
            "The student learns a ClassMix of easy-block classes pasted onto hard blocks, weighted by how many of "
            "the mixed block's pixels the teacher is confident about (or by each pixel's confidence), plus "
            "Contrastive weight x a prototype contrastive loss on confident hard pixels (Temperature scales the "
            "similarities). The teacher's probabilities are rescaled so that its pseudo-labels keep the class "
            "distribution it predicted on the target at the start (distribution alignment), which stops small "
            "classes from fading, and weighted by each pixel's similarity to the class prototypes (prototype "
            "rectification), so a pixel whose embedding lies by another class's prototype loses confidence or "
            "changes label. Hard schedule constant fills the hard batch with hard blocks only; linear starts "
            "with half hard blocks and ends with only hard blocks.\n\n"
            "Output: the adapted model (.safetensors, the teacher; its provenance names the source model's "
            "SHA-256, the target store and every hyper-parameter). Beside it: name.adapt.json (configuration, "
            "loss per step, prototype norms and pseudo-label class shares: a class whose share keeps falling "
            "warns of collapse) and name.resume.safetensors. Resume: give that file to continue. Cancel keeps "
            "the last complete checkpoint. Map with the adapted model using Map crops (inference) (crops:infer)."
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
                                         QgsProcessingParameterNumber.Double, 1.0, minValue=0.0)
        )
        self.addParameter(
            QgsProcessingParameterEnum("HARD_SCHEDULE", self.tr("Hard schedule"), options=HARD_SCHEDULES,
                                       defaultValue=0)
        )
        self.addParameter(self.device_parameter())
        self.addParameter(self.seed_parameter())
        self.addParameter(self.adaptation_resume_parameter())
        advanced = [
            QgsProcessingParameterNumber("HARD_START", self.tr("Share of hard blocks at the start (linear)"),
                                         QgsProcessingParameterNumber.Double, 0.5, minValue=0.0, maxValue=1.0),
            QgsProcessingParameterEnum("MIX_WEIGHTING", self.tr("ClassMix weighting"), options=MIX_WEIGHTINGS,
                                       defaultValue=0),
            QgsProcessingParameterNumber("EASY_WEIGHT", self.tr("Easy-block pseudo-label weight (0: off)"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterNumber("JITTER", self.tr("Photometric jitter of the mixed view"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterBoolean("RECALIBRATE_BN", self.tr("Re-estimate BatchNorm statistics on the target"),
                                          True),
            QgsProcessingParameterBoolean("DISTRIBUTION_ALIGNMENT",
                                          self.tr("Hold the pseudo-labels' class distribution (alignment)"), True),
            QgsProcessingParameterBoolean("PROTOTYPE_RECTIFICATION",
                                          self.tr("Rectify pseudo-labels with the class prototypes"), True),
            QgsProcessingParameterNumber("PIXEL_STRIDE", self.tr("Embedding pixel stride (1: every pixel)"),
                                         QgsProcessingParameterNumber.Integer, 2, minValue=1),
            QgsProcessingParameterNumber("INIT_BLOCKS", self.tr("Blocks of the first passes (0: all)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            *self.optimisation_parameters(checkpoints=True),
        ]
        self.add_advanced(advanced)
        self.add_adaptation_outputs()
