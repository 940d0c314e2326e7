"""The algorithm dialog as a user meets it: choices in words, required layer inputs start empty, every
parameter explained, the Toolbox in pipeline order."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qgis


@pytest.fixture
def project_with_a_raster(qgis_app, tmp_path):
    """The current project holds one raster (a class map), as when infer's composite used to default to it."""
    from qgis.core import QgsProject, QgsRasterLayer

    from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff

    path = tmp_path / "class_map.tif"
    ds = create_geotiff(path, Grid(8, 8, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631)), 1,
                        np.uint8, 255)
    ds.GetRasterBand(1).WriteArray(np.zeros((8, 8), np.uint8))
    finish_geotiff(ds)
    layer = QgsRasterLayer(str(path), "Class map")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeAllMapLayers()


def dialog(alg_id):
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    return AlgorithmDialog(alg, False, None)


def test_choices_show_words_and_keep_static_strings(project_with_a_raster):
    from crops.crops_qgis.algorithms.widgets import ChoiceWidgetWrapper

    dlg = dialog("crops:infer")
    wrapper = dlg.mainWidget().wrappers["DEVICE"]
    assert isinstance(wrapper, ChoiceWidgetWrapper)
    combo = wrapper.widget
    assert [combo.itemText(i) for i in range(combo.count())] == ["Automatic (GPU if available)", "CPU", "CUDA GPU"]
    assert wrapper.value() == "auto"  # the declared default, as its static string
    combo.setCurrentIndex(1)
    assert wrapper.parameterValue() == "cpu"
    wrapper.setValue(2)  # an index, as older models pass one
    assert wrapper.value() == "cuda"
    dlg.deleteLater()


def test_required_layer_inputs_start_empty(project_with_a_raster):
    from crops.crops_qgis.algorithms.widgets import LayerWidgetWrapper

    dlg = dialog("crops:infer")
    wrapper = dlg.mainWidget().wrappers["INPUT"]  # the composite
    assert isinstance(wrapper, LayerWidgetWrapper)
    assert wrapper.value() is None  # not the project's class map
    assert "[optional]" not in wrapper.label.text()
    from processing.gui.AlgorithmDialogBase import AlgorithmDialogBase

    with pytest.raises(AlgorithmDialogBase.InvalidParameterValue):  # still required: no run without a composite
        dlg.mainWidget().createProcessingParameters()
    wrapper.widget.setLayer(project_with_a_raster)
    assert wrapper.value() == project_with_a_raster.id()
    from qgis.core import QgsProcessingContext

    dlg.mainWidget().wrappers["MODEL"].setParameterValue("/models/m.safetensors", QgsProcessingContext())
    assert dlg.mainWidget().createProcessingParameters()["INPUT"] == project_with_a_raster.id()
    dlg.deleteLater()
    evaluate = dialog("crops:evaluate")
    assert evaluate.mainWidget().wrappers["INPUT"].value() is None
    assert evaluate.mainWidget().wrappers["REFERENCE"].value() is None
    evaluate.deleteLater()


def test_every_parameter_has_a_tooltip_and_spcl_explains_its_advanced_parameters(qgis_app):
    from qgis.core import QgsApplication

    from crops_engine.commands import command_specs

    for spec in command_specs():
        alg = QgsApplication.processingRegistry().createAlgorithmById(f"crops:{spec.algorithm}")
        for p in spec.params:
            if p.hidden:
                continue
            tip = alg.parameterDefinition(p.name).toolTip()
            assert p.help and p.help in tip, f"{spec.algorithm}.{p.name} has no tooltip"
            if p.kind == "choice":
                assert len(p.labels) == len(p.choices), f"{spec.algorithm}.{p.name}: words for every choice"
    spcl = next(s for s in command_specs() if s.algorithm == "adapt_spcl")
    unexplained = [p.name for p in spcl.params if p.advanced and p.label not in spcl.help]
    assert not unexplained, f"adapt_spcl's help does not explain {unexplained}"


def test_toolbox_lists_each_group_in_pipeline_order(qgis_app):
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("crops")
    by_group: dict[str, list[str]] = {}
    for alg in provider.algorithms():
        by_group.setdefault(alg.groupId(), []).append(alg.displayName())
    for group, names in by_group.items():
        if group != "tools":
            assert all(name[0].isdigit() for name in names), names
    shown = {alg.name(): alg.displayName() for alg in provider.algorithms()}
    assert shown["ndvi_qm"].startswith("2.1 ") and shown["build_blocks"].startswith("2.2 ")
    assert shown["partition"].startswith("4.1 ") and shown["adapt_spcl"].startswith("4.3 ")
    preprocessing = sorted(by_group["preprocessing"])  # the Toolbox sorts by name: the pipeline's order
    assert [n.split(" ", 1)[1] for n in preprocessing][:2] == ["NDVI quality mosaic", "Build blocks"]
