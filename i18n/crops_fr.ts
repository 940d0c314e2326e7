<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../crops_qgis/dock.py" line="54"/>
        <source>CROPS crop mapping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="65"/>
        <source>CROPS model (*.safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="66"/>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="69"/>
        <source>Composite</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="71"/>
        <source>Map crop classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="72"/>
        <source>Job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="76"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="79"/>
        <source>Draw area</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="82"/>
        <source>Whole composite</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="87"/>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="89"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="115"/>
        <source>Drawn area: {w:.0f} x {h:.0f} map units</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="130"/>
        <source>Choose the composite raster to map.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="132"/>
        <source>Choose a CROPS model file (.safetensors).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="140"/>
        <source>Mapping crop classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="141"/>
        <source>Crop classes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="141"/>
        <source>Confidence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="154"/>
        <source>Started: {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="167"/>
        <source>Failed: {error}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/dock.py" line="171"/>
        <source>Done: {n} layers added to &apos;{group}&apos;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="44"/>
        <source>CROPS engine environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="49"/>
        <source>Engine Python</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="51"/>
        <source>Search order</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="57"/>
        <source>NVIDIA driver {v}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="57"/>
        <source>no NVIDIA GPU found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="58"/>
        <source>torch build ({detected})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="61"/>
        <source>Create managed environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="63"/>
        <source>Run diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="85"/>
        <source>Creating {venv} (torch build {b})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="91"/>
        <source>Failed: {e}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="97"/>
        <source>Environment ready: {p}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="102"/>
        <source>CROPS diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="110"/>
        <source>Diagnostics failed: {e}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/environment_dialog.py" line="113"/>
        <source>Engine {python}: torch {torch}, devices: {devices}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CropsPlugin</name>
    <message>
        <location filename="../crops_qgis/plugin.py" line="35"/>
        <source>CROPS crop mapping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/plugin.py" line="40"/>
        <source>CROPS engine environment…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CropsProvider</name>
    <message>
        <location filename="../crops_qgis/provider.py" line="33"/>
        <source>CROPS crop-type mapping (source-free domain adaptation)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/provider.py" line="45"/>
        <source>Engine Python (interpreter with torch, timm, h5py, safetensors)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DiagnosticsAlgorithm</name>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="23"/>
        <source>Diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="26"/>
        <source>Reports the engine Python in use and the versions of QGIS, GDAL, Python, torch, timm, h5py and numpy, whether CUDA is available and which devices were found.

Report: an HTML (.html) or text (.txt) file.

Run it first when setting CROPS up, and attach the report to bug reports.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="34"/>
        <source>Report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="34"/>
        <source>HTML files (*.html);;Text files (*.txt)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="39"/>
        <source>CUDA available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="40"/>
        <source>Devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/diagnostics.py" line="41"/>
        <source>Engine Python</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SampleDataAlgorithm</name>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="23"/>
        <source>Generate sample data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="26"/>
        <source>Writes a realistic synthetic Sentinel-2 L2A season: one 10-band UInt16 GeoTIFF per date (scenes/S2_L2A_YYYYMMDD.tif, reflectance = DN / 10000), its scene classification (scenes/S2_L2A_YYYYMMDD_SCL.tif), the crop labels (labels.tif), the parcels (fields.gpkg) and the class list (classes.csv), in the same layout as real data.

Preset: &apos;source&apos; and &apos;target&apos; are two places with a clear but learnable shift (phenology, class proportions, atmosphere, clouds, field size); &apos;pair&apos; writes both into Output folder/source and Output folder/target.
Size: width and height in pixels (10 m). Dates: the season, YYYY-MM-DD; one acquisition every Revisit days. The same seed always gives the same data.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="39"/>
        <source>Preset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="44"/>
        <source>Size (pixels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="49"/>
        <source>Season start (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="52"/>
        <source>Season end (YYYY-MM-DD)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="53"/>
        <source>Revisit (days)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="58"/>
        <source>Random seed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../crops_qgis/algorithms/sample_data.py" line="61"/>
        <source>Output folder</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
