"""Loads the plugin's translation (i18n/crops_<lang>.qm) matching the QGIS user locale."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

I18N = Path(__file__).resolve().parents[1] / "i18n"
_installed: list[QTranslator] = []  # a QTranslator must outlive its installation


def user_locale() -> str:
    """QGIS's chosen UI locale (Settings > Options > General), else the system's."""
    return str(QgsSettings().value("locale/userLocale", "") or QLocale.system().name())


def install_translator(locale: str | None = None) -> str | None:
    """Install the translation for `locale` (e.g. 'de_DE' or 'de'); returns the file used."""
    locale = locale or user_locale()
    for name in (locale, locale.split("_")[0]):
        qm = I18N / f"crops_{name}.qm"
        if qm.is_file():
            translator = QTranslator()
            if translator.load(str(qm)):
                QCoreApplication.installTranslator(translator)
                _installed.append(translator)
                return str(qm)
    return None


def remove_translators() -> None:
    while _installed:
        QCoreApplication.removeTranslator(_installed.pop())
