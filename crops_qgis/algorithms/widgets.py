"""Dialog widgets QGIS 3.22 does not offer: choices shown as words, and layer inputs that start empty.

- `ChoiceWidgetWrapper`: a drop-down that shows words ("Automatic (GPU if available)") for values that
  stay static strings ("auto"); QGIS's own enum widget shows a static-string choice as the string itself.
- `LayerWidgetWrapper`: QGIS's layer picker, but a required input starts with no layer, where QGIS would
  preselect the project's first layer of the type (infer's composite showed the class map). The input
  stays required: the dialog refuses to run until the user picks one.

Parameters name these wrappers in their metadata (`parameters.definition`). They serve the algorithm
dialog (and the batch dialog for choices); elsewhere (the modeler, whose widgets also offer model inputs
and child outputs, and the batch dialog's layer cells) QGIS's own widget is returned instead. Imported
by the Processing GUI only: `qgis_process` never loads this module.
"""

from __future__ import annotations

from typing import Any

from processing.gui.wrappers import DIALOG_BATCH, DIALOG_STANDARD, WidgetWrapper, dialogTypes
from processing.tools.dataobjects import createContext
from qgis.core import NULL, QgsProcessingParameterDefinition
from qgis.gui import QgsGui, QgsProcessingMapLayerComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox


def _qgis_wrapper(param: QgsProcessingParameterDefinition, dialog: Any) -> Any:
    """QGIS's own widget wrapper of `param` for `dialog` (what Processing would have made without metadata)."""
    if dialog.__class__.__name__ == "ModelerParametersDialog":
        return QgsGui.processingGuiRegistry().createModelerParameterWidget(dialog.model, dialog.childId, param,
                                                                          dialog.context)
    wrapper = QgsGui.processingGuiRegistry().createParameterWidgetWrapper(
        param, dialogTypes.get(dialog.__class__.__name__, DIALOG_STANDARD))
    if wrapper is not None:
        wrapper.setDialog(dialog)
    return wrapper


class _Wrapper(WidgetWrapper):
    """A wrapper whose widget reports changes through a bound method: PyQt drops that connection when the wrapper
    is destroyed, where a lambda would keep calling into a deleted wrapper (a crash when the project's layers are
    removed after a dialog has closed)."""

    def _changed(self, *_: Any) -> None:
        self.widgetValueHasChanged.emit(self)


class ChoiceWidgetWrapper(_Wrapper):
    """A combo box of (words, static string) items; its value is the static string."""

    def __new__(cls, param: QgsProcessingParameterDefinition, dialog: Any, row: int = 0, col: int = 0, **kwargs: Any):
        if dialogTypes.get(dialog.__class__.__name__, DIALOG_STANDARD) not in (DIALOG_STANDARD, DIALOG_BATCH):
            return _qgis_wrapper(param, dialog)
        return super().__new__(cls)

    def createWidget(self, labels: Any = (), **kwargs: Any) -> QComboBox:  # noqa: N802 - QGIS API
        combo = QComboBox()
        words = {str(value): str(text) for value, text in (labels or ())}
        if self.parameterDefinition().flags() & QgsProcessingParameterDefinition.FlagOptional:
            combo.addItem(self.tr("[not set]"), None)
        for value in self.parameterDefinition().options():
            combo.addItem(words.get(value, value), value)
            combo.setItemData(combo.count() - 1, value, Qt.ToolTipRole)  # the value a script writes
        combo.currentIndexChanged.connect(self._changed)
        return combo

    def setValue(self, value: Any) -> None:  # noqa: N802 - QGIS API
        if value is None or value == NULL:
            return
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        options = self.parameterDefinition().options()
        if isinstance(value, int) and 0 <= value < len(options):  # an index, as older models pass one
            value = options[value]
        index = self.widget.findData(str(value))
        if index >= 0:
            self.widget.setCurrentIndex(index)

    def value(self) -> Any:
        return self.widget.currentData()


class LayerWidgetWrapper(_Wrapper):
    """QGIS's layer picker (project layers, file browser, drag and drop) starting with no layer chosen."""

    def __new__(cls, param: QgsProcessingParameterDefinition, dialog: Any, row: int = 0, col: int = 0, **kwargs: Any):
        if dialogTypes.get(dialog.__class__.__name__, DIALOG_STANDARD) != DIALOG_STANDARD:
            return _qgis_wrapper(param, dialog)
        return super().__new__(cls)

    def createWidget(self, **kwargs: Any) -> QgsProcessingMapLayerComboBox:  # noqa: N802 - QGIS API
        # The picker of an optional copy: it may be empty, and starts so; the parameter itself stays required.
        self._picker_param = self.parameterDefinition().clone()
        self._picker_param.setFlags(self._picker_param.flags() | QgsProcessingParameterDefinition.FlagOptional)
        combo = QgsProcessingMapLayerComboBox(self._picker_param)
        combo.setLayer(None)
        combo.valueChanged.connect(self._changed)
        return combo

    def setValue(self, value: Any) -> None:  # noqa: N802 - QGIS API
        if value is None or value == NULL or value == "":
            return
        self.widget.setValue(value, createContext())

    def value(self) -> Any:
        value = self.widget.value()
        return None if value in ("", NULL) else value
