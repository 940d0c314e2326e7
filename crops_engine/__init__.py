"""CROPS engine: source-free domain adaptation for crop-type mapping.

Importable without QGIS or PyQt; heavy dependencies (torch, timm, h5py) are imported
lazily by the modules that need them, so `python -m crops_engine diagnostics` works
even in a broken environment and can say what is missing.
"""

__version__ = "0.1.0"
