"""German and French translations: complete, compiled, and shown by the provider's algorithms."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

ROOT = Path(__file__).resolve().parents[1]
I18N = ROOT / "i18n"
LANGUAGES = ("de", "fr")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n|%\d")
STEP = re.compile(r"^\d+\.\d+ ")  # the pipeline step number the Toolbox shows before a name (not translated)


def read_ts(path: Path) -> dict[tuple[str, str], ET.Element]:
    """{(context, source): <translation> element} of a Qt Linguist .ts file."""
    messages = {}
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            messages[(name, message.findtext("source"))] = message.find("translation")
    return messages


def translations(lang: str) -> dict[tuple[str, str], str]:
    return {key: node.text for key, node in read_ts(I18N / f"crops_{lang}.ts").items()}


def algorithm_texts() -> dict[str, tuple[str, str, str, str]]:
    """{algorithm id: (context, display name, group, help)} as the registry shows them now."""
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("crops")
    assert provider is not None and provider.algorithms()
    return {
        alg.id(): (type(alg).__name__, STEP.sub("", alg.displayName()), alg.group(), alg.shortHelpString())
        for alg in provider.algorithms()
    }


@pytest.fixture
def english(qgis_app):
    """The registry's texts with no translator installed; afterwards the plugin's own locale is restored."""
    from crops.crops_qgis.i18n import install_translator, remove_translators

    remove_translators()
    texts = algorithm_texts()
    yield texts
    remove_translators()
    assert algorithm_texts() == texts  # back to English for the other tests
    install_translator()  # what the plugin does on creation (nothing for an English locale)


@pytest.mark.parametrize(
    ("locale", "lang", "diagnostics", "tools", "data", "report"),
    [
        ("de_DE", "de", "Diagnose", "Werkzeuge", "1. Daten", "Bericht"),
        ("fr", "fr", "Diagnostic", "Outils", "1. Données", "Rapport"),
    ],
)
def test_provider_shows_translated_names_groups_and_help(english, locale, lang, diagnostics, tools, data, report):
    from crops.crops_qgis.i18n import install_translator
    from qgis.core import QgsApplication

    assert install_translator(locale) == str(I18N / f"crops_{lang}.qm")
    shown = algorithm_texts()
    assert shown["crops:diagnostics"][1:3] == (diagnostics, tools)
    assert shown["crops:sample_data"][2] == data

    ts = translations(lang)
    for alg_id, (context, name, group, help_text) in english.items():
        missing = [s for s in ((context, name), ("CropsAlgorithm", group), (context, help_text)) if s not in ts]
        assert not missing, f"{alg_id}: {missing} not in crops_{lang}.ts; run `make translations` and translate"
        assert shown[alg_id][1:] == (ts[(context, name)], ts[("CropsAlgorithm", group)], ts[(context, help_text)])

    # Parameters are described when an algorithm is created, so a fresh instance speaks the language too.
    alg = QgsApplication.processingRegistry().createAlgorithmById("crops:diagnostics")
    assert alg.parameterDefinition("OUTPUT").description() == report


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_keeping_placeholders(lang):
    messages = read_ts(I18N / f"crops_{lang}.ts")
    assert len(messages) > 100
    problems = []
    for (context, source), node in messages.items():
        text = node.text or ""
        if node.get("type") or not text.strip():
            problems.append(f"[{context}] not translated: {source[:60]!r}")
        elif sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
            problems.append(f"[{context}] placeholders differ: {source[:60]!r}")
        elif source.count("\n") != text.count("\n"):
            problems.append(f"[{context}] line breaks differ: {source[:60]!r}")
    assert not problems, "\n".join(problems)


def test_languages_have_the_same_messages():
    assert read_ts(I18N / "crops_de.ts").keys() == read_ts(I18N / "crops_fr.ts").keys()


def test_ts_files_cover_every_string_in_the_code(tmp_path):
    """pylupdate5 over crops_qgis and the command declarations finds no message the committed .ts files lack."""
    if shutil.which("pylupdate5") is None:
        pytest.skip("pylupdate5 (pyqt5-dev-tools) is not installed")
    sources = sorted(str(p) for p in (ROOT / "crops_qgis").rglob("*.py") if "__pycache__" not in p.parts)
    spec_strings = tmp_path / "spec_strings.py"  # the command declarations' texts, as `make translations` does
    subprocess.run([sys.executable, str(ROOT / "tools" / "spec_strings.py"), str(spec_strings)], check=True,
                   capture_output=True)
    sources.append(str(spec_strings))
    fresh = tmp_path / "fresh.ts"
    subprocess.run(["pylupdate5", "-noobsolete", *sources, "-ts", str(fresh)], check=True, capture_output=True)
    committed = read_ts(I18N / "crops_de.ts").keys()
    missing = sorted(set(read_ts(fresh).keys()) - set(committed))
    assert not missing, f"run `make translations` and translate: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_qm_is_compiled_from_the_ts(tmp_path, lang):
    if shutil.which("lrelease") is None:
        pytest.skip("lrelease (qttools5-dev-tools) is not installed")
    qm = tmp_path / f"crops_{lang}.qm"
    subprocess.run(["lrelease", "-silent", str(I18N / f"crops_{lang}.ts"), "-qm", str(qm)], check=True)
    assert qm.read_bytes() == (I18N / f"crops_{lang}.qm").read_bytes(), "run `make translations`"
