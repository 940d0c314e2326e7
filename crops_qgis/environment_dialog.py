"""Settings dialog: choose the engine Python, or create the managed environment; then test it."""

from __future__ import annotations

from qgis.core import QgsApplication
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from .engine_python import SETTING_ENGINE_PYTHON, candidates, engine_in_use, managed_environment, venv_python
from .engine_task import EngineStep, EngineTask
from .environment import InstallTask, install_commands, nvidia_driver, torch_build


def _set_setting(value: str) -> None:
    from processing.core.ProcessingConfig import ProcessingConfig

    ProcessingConfig.setSettingValue(SETTING_ENGINE_PYTHON, value)


def _get_setting() -> str:
    from processing.core.ProcessingConfig import ProcessingConfig

    return str(ProcessingConfig.getSetting(SETTING_ENGINE_PYTHON) or "")


class EnvironmentDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CROPS engine environment"))
        self.task = None
        form = QFormLayout()
        self.python_widget = QgsFileWidget()
        self.python_widget.setFilePath(_get_setting())
        form.addRow(self.tr("Engine Python"), self.python_widget)
        self.order_label = QLabel(self.search_order())
        form.addRow(self.tr("Search order"), self.order_label)
        driver = nvidia_driver()
        self.build_combo = QComboBox()
        for build in ("cpu", "cu130", "cu128", "cu126"):
            self.build_combo.addItem(build)
        self.build_combo.setCurrentText(torch_build(driver))
        detected = self.tr("NVIDIA driver {v}").format(v=driver) if driver else self.tr("no NVIDIA GPU found")
        form.addRow(self.tr("torch build ({detected})").format(detected=detected), self.build_combo)

        buttons = QHBoxLayout()
        self.create_button = QPushButton(self.tr("Create managed environment"))
        self.create_button.clicked.connect(self.create_environment)
        self.test_button = QPushButton(self.tr("Run diagnostics"))
        self.test_button.clicked.connect(self.run_diagnostics)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.test_button)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.log, 1)
        layout.addWidget(box)
        self.resize(640, 480)

    def search_order(self) -> str:
        """The candidates in the order they are tried, the one the engine runs with marked."""
        in_use = engine_in_use()
        lines = []
        for i, (source, path) in enumerate(candidates(translated=True)):
            line = self.tr("{n}. {source}: {path}").format(n=i + 1, source=source, path=path)
            lines.append(line + ("  " + self.tr("(in use)") if i == in_use else ""))
        if in_use is None:
            lines.append(self.tr("None of these has torch: create the managed environment or choose a Python."))
        return "\n".join(lines)

    def accept(self) -> None:
        _set_setting(self.python_widget.filePath().strip())
        super().accept()

    def create_environment(self) -> InstallTask:
        venv = managed_environment()
        self.log.appendPlainText(
            self.tr("Creating {venv} (torch build {b})").format(venv=venv, b=self.build_combo.currentText())
        )
        self.task = InstallTask(install_commands(venv, self.build_combo.currentText()))
        self.task.line.connect(self.log.appendPlainText)
        self.task.taskCompleted.connect(lambda: self.installed(str(venv_python(venv))))
        self.task.taskTerminated.connect(
            lambda: self.log.appendPlainText(self.tr("Failed: {e}").format(e=self.task.error))
        )
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def installed(self, python: str) -> None:
        self.python_widget.setFilePath(python)
        self.order_label.setText(self.search_order())
        self.log.appendPlainText(self.tr("Environment ready: {p}").format(p=python))
        self.run_diagnostics()

    def run_diagnostics(self) -> EngineTask:
        python = self.python_widget.filePath().strip() or None
        self.task = EngineTask(
            self.tr("CROPS diagnostics"),
            [EngineStep("diagnostics", [], require_torch=False)],
            self.diagnostics_done,
            python,
        )
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def diagnostics_done(self, task: EngineTask) -> None:
        if task.error:
            self.log.appendPlainText(self.tr("Diagnostics failed: {e}").format(e=task.error))
            return
        result = task.results[-1]
        self.log.appendPlainText(
            self.tr("Engine {python}: torch {torch}, devices: {devices}").format(
                python=result["engine_python"], torch=result["torch"], devices=", ".join(result["devices"])
            )
        )
