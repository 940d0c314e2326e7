"""QGIS side of CROPS: plugin, Processing provider, worker bridge, algorithms."""
