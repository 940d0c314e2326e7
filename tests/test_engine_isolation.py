"""crops_engine must import and work where qgis and PyQt5 do not exist."""

from __future__ import annotations

import subprocess

from conftest import ROOT

BLOCKER = r"""
import importlib.abc, pkgutil, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'qgis', 'PyQt5', 'PyQt6', 'sip'}:
            raise ImportError(f'{name} is blocked in this test')
        return None

sys.meta_path.insert(0, Block())
import crops_engine
names = [m.name for m in pkgutil.walk_packages(crops_engine.__path__, 'crops_engine.')
         if not m.name.endswith('__main__')]
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'qgis', 'PyQt5', 'PyQt6'})
assert not leaked, leaked
print(len(names))
"""


def test_engine_imports_without_qgis_or_pyqt(engine_python):
    proc = subprocess.run([engine_python, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.strip()) >= 8  # every module was imported


def test_no_engine_source_mentions_qgis_imports():
    offenders = []
    for path in (ROOT / "crops_engine").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import qgis", "from qgis", "import PyQt", "from PyQt")):
                offenders.append(f"{path}: {stripped}")
    assert offenders == []
