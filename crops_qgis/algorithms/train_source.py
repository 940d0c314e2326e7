"""crops:train_source: supervised source model on a labelled block store (best by validation mIoU)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm

ARCHS = ["unet", "transunet"]
CLASS_WEIGHTS = ["none", "balanced"]


class TrainSourceAlgorithm(CropsAlgorithm):
    NAME = "train_source"
    COMMAND = "train-source"
    GROUP = "training"
    HELP_ANCHOR = "train-source"

    def displayName(self) -> str:
        return self.tr("Train source model")

    def shortHelpString(self) -> str:
        return self.tr(
            "Trains a segmentation model on a labelled block store (from Build blocks) and keeps the model with "
            "the best validation mIoU.\n\n"
            "Architecture: unet (a U-Net on a timm encoder, fast on CPUs; Encoder resnet18 by default) or "
            "transunet (R50-ViT-B/16, the method's reference backbone; needs a GPU in practice). Pretrained "
            "weights: an optional local file for the encoder (.safetensors or a timm .pth state dict).\n"
            "Training: AdamW, warm-up then cosine decay of the learning rate, cross-entropy ignoring unlabelled "
            "pixels (optional class weights and Dice), random flips and 90-degree rotations, mixed precision on "
            "CUDA. Iterations > 0 overrides Epochs (an epoch is one pass over the training blocks); each epoch "
            "ends with a validation on the store's validation blocks. On the CPU a seed gives the same model.\n\n"
            "Output: a .safetensors model that describes itself (features, normalisation, classes with codes "
            "and colours, block size, provenance). Beside it: name.metrics.json and name.metrics.csv (loss, "
            "mIoU and IoU per class per epoch) and name.resume.safetensors. Resume: give that file (or the "
            "model) to continue a run; raise Iterations/Epochs to train longer. Cancel stops after the current "
            "step and keeps the last saved model."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterFile("BLOCKS", self.tr("Labelled block store"), extension="h5")
        )
        self.addParameter(QgsProcessingParameterEnum("ARCH", self.tr("Architecture"), options=ARCHS, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterString("ENCODER", self.tr("Encoder (U-Net; empty: resnet18)"), "", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterFile("PRETRAINED", self.tr("Pretrained encoder weights"), optional=True)
        )
        self.addParameter(
            QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs"), QgsProcessingParameterNumber.Integer, 40,
                                         minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("ITERATIONS", self.tr("Iterations (> 0 overrides epochs)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0)
        )
        self.addParameter(
            QgsProcessingParameterNumber("BATCH_SIZE", self.tr("Batch size (blocks)"),
                                         QgsProcessingParameterNumber.Integer, 16, minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("LR", self.tr("Learning rate"), QgsProcessingParameterNumber.Double, 0.001,
                                         minValue=0.0)
        )
        self.addParameter(self.device_parameter())
        self.addParameter(self.seed_parameter())
        self.addParameter(
            QgsProcessingParameterFile("RESUME", self.tr("Resume from (resume state or model)"), optional=True,
                                       fileFilter="safetensors (*.safetensors)")
        )
        advanced = [
            QgsProcessingParameterEnum("CLASS_WEIGHTS", self.tr("Class weights"), options=CLASS_WEIGHTS,
                                       defaultValue=0),
            QgsProcessingParameterNumber("DICE_WEIGHT", self.tr("Dice loss weight (0: none)"),
                                         QgsProcessingParameterNumber.Double, 0.0, minValue=0.0),
            QgsProcessingParameterNumber("VAL_EVERY", self.tr("Validate every N steps (0: every epoch)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterString("ARCH_ARGS", self.tr("Architecture arguments (JSON)"), "", optional=True),
            *self.optimisation_parameters(checkpoints=False),
        ]
        self.add_advanced(advanced)
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Model"), self.tr("Model (*.safetensors)"))
        )
        self.addOutput(QgsProcessingOutputFile("METRICS_JSON", self.tr("Metrics per epoch (JSON)")))
        self.addOutput(QgsProcessingOutputFile("METRICS_CSV", self.tr("Metrics per epoch (CSV)")))
        self.addOutput(QgsProcessingOutputFile("RESUME_STATE", self.tr("Resume state")))
        self.addOutput(QgsProcessingOutputNumber("BEST_VAL_MIOU", self.tr("Best validation mIoU")))
        self.addOutput(QgsProcessingOutputNumber("BEST_EPOCH", self.tr("Epoch of the best model")))
        self.addOutput(QgsProcessingOutputNumber("STEPS", self.tr("Steps trained")))
