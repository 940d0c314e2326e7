"""The seeds' other methods through the real qgis_process binary: crops:adapt METHOD=co_training (a tiny run, and its
refusal of one model and one round), crops:adapt_spcl PROTOTYPES=probabilistic, and crops:align_statistics."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.qgis

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

I18N = Path(__file__).resolve().parents[1] / "i18n"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from test_spcl import TINY, write_scene

    from crops_engine.blocks import BlockStore, build_block_store
    from crops_engine.partition import PartitionOptions, partition
    from crops_engine.train import TrainConfig, train_source

    root = tmp_path_factory.mktemp("issue15_qgis")
    composite, labels = write_scene(root / "source")
    store = root / "source.h5"
    build_block_store(composite, store, labels=labels, class_map="1200=maize; *=other", block_size=32,
                      val_fraction=0.25, val_group_size=1, seed=0)
    model = root / "source.safetensors"
    train_source(TrainConfig(blocks=str(store), output=str(model), arch_args=TINY, batch_size=4, lr=3e-3,
                             device="cpu", iterations=20))
    target_composite, _ = write_scene(root / "target", shift=0.05, seed=1)
    target = root / "target.h5"
    build_block_store(target_composite, target, block_size=32)
    partition(model, target, options=PartitionOptions(device="cpu"))
    assert len(BlockStore(target).split("easy"))
    return {"model": model, "target": target, "composite": target_composite}


def test_co_training_headless(qgis_process, prepared, tmp_path):
    from crops_engine.checkpoint import read_metadata

    out = tmp_path / "co.safetensors"
    result = qgis_process("crops:adapt", METHOD="co_training", MODEL=prepared["model"], BLOCKS=prepared["target"],
                          ITERATIONS=4, BATCH_SIZE=4, CALIBRATION_BLOCKS=4, CO_ROUNDS=1, CO_EPOCHS=1,
                          CO_FINAL_EPOCHS=1, CO_FUSION="agreement", CO_SHARE=0.6, CO_MIN_PIXELS=8,
                          CO_DIVERSITY="seeds", DEVICE="cpu", SEED=2, OUTPUT=out)
    outputs = result["results"]
    assert outputs["OUTPUT"] == str(out) and out.is_file() and outputs["LOG"].endswith("co.adapt.json")
    prov = read_metadata(out).provenance
    assert prov["method"] == "co_training"
    hp = prov["summary"]["run_hyperparameters"]
    assert (hp["co_rounds"], hp["co_fusion"], hp["co_share"], hp["co_min_pixels"], hp["co_diversity"]) == (
        1, "agreement", 0.6, 8, "seeds")
    log = json.loads((tmp_path / "co.adapt.json").read_text())
    assert [r["round"] for r in log["summary"]["rounds"]] == [1, "final"]
    assert all("agreement" in r and "pseudo_label_class_shares" in r for r in log["summary"]["rounds"])


def test_co_training_with_one_model_and_one_round_is_refused(qgis_process, prepared, tmp_path):
    from conftest import run_qgis_process

    out = tmp_path / "one.safetensors"
    proc = run_qgis_process("run", "crops:adapt", "--", "METHOD=co_training", f"MODEL={prepared['model']}",
                            f"BLOCKS={prepared['target']}", "CO_MODELS=1", "CO_ROUNDS=1", "DEVICE=cpu",
                            f"OUTPUT={out}")
    assert proc.returncode != 0 and not out.exists()
    assert "one model and one round is no co-training" in proc.stdout + proc.stderr


def test_spcl_probabilistic_and_align_statistics_headless(qgis_process, prepared, tmp_path):
    from osgeo import gdal

    from crops_engine.checkpoint import read_metadata

    out = tmp_path / "pppc.safetensors"
    qgis_process("crops:adapt_spcl", MODEL=prepared["model"], BLOCKS=prepared["target"], ITERATIONS=3, BATCH_SIZE=2,
                 CONF_THRESHOLD=0.6, PROTOTYPES="probabilistic", STATISTICS_ALIGNMENT="none", DEVICE="cpu", OUTPUT=out)
    prov = read_metadata(out).provenance
    assert prov["hyperparameters"]["prototypes"] == "probabilistic" and "prototype_variances" in prov["summary"]

    aligned = tmp_path / "aligned.tif"
    result = qgis_process("crops:align_statistics", MODEL=prepared["model"], INPUT=prepared["composite"],
                          STATISTICS_ALIGNMENT="histogram", OUTPUT=aligned)
    assert result["results"]["OUTPUT"] == str(aligned) and result["results"]["BANDS"] > 0
    assert aligned.with_suffix(".qml").is_file()
    ds = gdal.Open(str(aligned))
    src = gdal.Open(str(prepared["composite"]))
    assert ds.RasterCount == src.RasterCount and ds.GetMetadataItem("STATISTICS_ALIGNMENT") == "histogram"
    band = ds.GetRasterBand(1).ReadAsArray()
    assert np.isfinite(band).any()


CO_PARAMS = ("CO_ROUNDS", "CO_EPOCHS", "CO_FINAL_EPOCHS", "CO_SHARE", "CO_MIN_PIXELS", "CO_FUSION", "CO_MODELS",
             "CO_DIVERSITY")


def test_toolbox_shows_the_new_algorithm_and_options_with_help_in_de_and_fr(qgis_app):
    """In the Toolbox: crops:align_statistics, METHOD co_training with its CO_* parameters, PROTOTYPES probabilistic and
    STATISTICS_ALIGNMENT on partition / adapt / adapt_spcl / infer, each with help; in German and French too."""
    from crops.crops_qgis.i18n import install_translator, remove_translators
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()

    def create(alg_id):
        alg = registry.createAlgorithmById(alg_id)
        assert alg is not None, f"{alg_id} is not in the Toolbox"
        return alg

    def texts():
        """The new strings as shown: align_statistics' name, help and option label, the co_training and PROTOTYPES
        parameters' labels (the adaptation commands' whole help is test_i18n's)."""
        align, adapt, spcl = create("crops:align_statistics"), create("crops:adapt"), create("crops:adapt_spcl")
        name = align.displayName().split(" ", 1)[-1] if align.displayName()[:1].isdigit() else align.displayName()
        return {"align": (name, align.shortHelpString(),  # the name without its pipeline step number
                          align.parameterDefinition("STATISTICS_ALIGNMENT").description()),
                "co": tuple(adapt.parameterDefinition(n).description() for n in CO_PARAMS),
                "pppc": (spcl.parameterDefinition("PROTOTYPES").description(),)}

    remove_translators()
    try:
        align = create("crops:align_statistics")
        assert align.parameterDefinition("STATISTICS_ALIGNMENT").options() == ["histogram", "mean_std"]
        assert {"MODEL", "INPUT", "OUTPUT"} <= {p.name() for p in align.parameterDefinitions()}
        assert "histogram matching" in align.shortHelpString() and "mean_std" in align.shortHelpString()
        assert align.helpUrl().endswith("README.md#align-statistics")  # its section of the README
        adapt = create("crops:adapt")
        assert "co_training" in adapt.parameterDefinition("METHOD").options()
        for name in CO_PARAMS:
            assert adapt.parameterDefinition(name) is not None, name
        assert "co_training: two models collaborate" in adapt.shortHelpString()
        spcl = create("crops:adapt_spcl")
        assert spcl.parameterDefinition("PROTOTYPES").options() == ["point", "probabilistic"]
        assert "(PPPC)" in spcl.shortHelpString() and "mutual likelihood score" in spcl.shortHelpString()
        for alg_id in ("crops:partition", "crops:adapt", "crops:adapt_spcl", "crops:infer"):
            alg = create(alg_id)  # kept: its parameters live as long as it does
            options = alg.parameterDefinition("STATISTICS_ALIGNMENT").options()
            assert options == ["none", "mean_std", "histogram"], alg_id
        english = texts()
        for locale, lang, name in (("de_DE", "de", "Statistiken an das Modell angleichen"),
                                   ("fr", "fr", "Aligner les statistiques sur le modèle")):
            translated = {t.text for t in ET.parse(I18N / f"crops_{lang}.ts").getroot().iter("translation") if t.text}
            assert install_translator(locale)
            shown = texts()
            assert shown["align"][0] == name
            for key, values in shown.items():  # every new text is shown translated (help, parameter labels)
                assert all(v in translated for v in values), (locale, key)
            assert shown["align"][1] != english["align"][1] and "histogram" in shown["align"][1]
            assert all(v != e for v, e in zip(shown["co"], english["co"], strict=True))
            remove_translators()
    finally:
        remove_translators()
        install_translator()
