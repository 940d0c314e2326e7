# CROPS for QGIS. `make demo` runs the main job, `make test` the tests; both set up first.
SHELL := /bin/bash
PY := .venv/bin/python
APT_PACKAGES := qgis python3-qgis qgis-providers python3-gdal python3-matplotlib python3-venv xvfb qttools5-dev-tools pyqt5-dev-tools zip
STAMP := .venv/.crops-setup
DEMO_DIR ?= build/demo
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup system-packages demo test test-fast lint package translations pipeline-model styles clean

setup: system-packages $(STAMP)

# Debian packages, only when one is missing (needs root or sudo).
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The engine's venv sees Debian's qgis, osgeo and numpy (GDAL's array module is built against it).
$(STAMP): requirements.txt requirements-dev.txt
	@[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages .venv
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -c "import torch, timm, h5py, safetensors, matplotlib, osgeo.gdal, qgis.core"
	@touch $(STAMP)

demo: setup
	$(PY) tools/demo.py --output $(DEMO_DIR)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop: everything but the end-to-end qgis_process tests.
test-fast: setup
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check .

# An installable plugin zip (Plugins > Install from ZIP): no tests, venv, build or caches.
package:
	@rm -rf build/package && mkdir -p build/package/crops dist
	git ls-files -z --cached --others --exclude-standard -- metadata.txt __init__.py LICENSE README.md crops_qgis crops_engine resources i18n \
	  | xargs -0 -I{} cp --parents {} build/package/crops/
	find build/package -name '__pycache__' -prune -exec rm -rf {} +
	cd build/package && rm -f ../../dist/crops.zip && zip -qr ../../dist/crops.zip crops
	@echo "dist/crops.zip"

# Translations: refresh i18n/*.ts from the code's tr() strings and the command declarations' texts
# (tools/spec_strings.py; existing translations are kept),
# then compile the .qm files the plugin loads.
LANGUAGES := de fr
translations: setup
	$(PY) tools/spec_strings.py build/i18n/spec_strings.py
	pylupdate5 -noobsolete $$(git ls-files --cached --others --exclude-standard 'crops_qgis/*.py') \
	  build/i18n/spec_strings.py -ts $(foreach l,$(LANGUAGES),i18n/crops_$(l).ts)
	for l in $(LANGUAGES); do lrelease -silent i18n/crops_$$l.ts -qm i18n/crops_$$l.qm; done

# The static styles in resources/styles (the engine writes the same beside its outputs).
styles: setup
	$(PY) -c "from crops_engine.styles import write_shipped_styles; write_shipped_styles('resources/styles')"

# The shipped Processing model (resources/models/crops_pipeline.model3), rebuilt from code.
pipeline-model: setup
	QT_HASH_SEED=0 $(PY) tools/build_pipeline_model.py  # a fixed hash order: small diffs

clean:
	rm -rf build dist .pytest_cache
