"""The evaluation report as a self-contained HTML page: summary, per-class table, confusion matrix."""

from __future__ import annotations

import html
from typing import Any


def num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def render_html(doc: dict[str, Any]) -> str:
    """A self-contained HTML page: summary, per-class table, confusion matrix."""
    e = html.escape
    summary_rows = "".join(
        f"<tr><th>{e(label)}</th><td>{value}</td></tr>"
        for label, value in (
            ("Pixels evaluated", f"{doc['pixels']:,}"),
            ("Overall accuracy", pct(doc["overall_accuracy"])),
            ("Mean IoU", num(doc["mean_iou"])),
            ("Mean F1", num(doc["mean_f1"])),
            ("Cohen's kappa", num(doc["kappa"])),
        )
    )
    class_rows = "".join(
        f"<tr><td><span class='sw' style='background:{e(c['colour'])}'></span>{e(c['name'])}</td>"
        f"<td>{num(c['iou'])}</td><td>{num(c['f1'])}</td><td>{num(c['precision'])}</td>"
        f"<td>{num(c['recall'])}</td><td>{c['reference_pixels']:,}</td><td>{c['predicted_pixels']:,}</td></tr>"
        for c in doc["per_class"]
    )
    names = [c["name"] for c in doc["per_class"]]
    head = "".join(f"<th>{e(n)}</th>" for n in names)
    cm_rows = "".join(
        f"<tr><th>{e(names[i])}</th>" + "".join(f"<td>{v:,}</td>" for v in row) + "</tr>"
        for i, row in enumerate(doc["confusion_matrix"])
    )
    matching = "".join(
        f"<li>{e(m['reference'])} &rarr; {e(m['prediction']) if m['prediction'] else '<em>no class of the map</em>'}"
        f" ({e(m['matched_by'])})</li>"
        for m in doc["matching"]
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>CROPS evaluation</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f0f0f0; }}
td:first-child {{ text-align: left; }}
.sw {{ display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em; border: 1px solid #666; }}
</style></head><body>
<h1>Class map evaluation</h1>
<p>Class map: <code>{e(doc['class_map'])}</code><br>Reference: <code>{e(doc['reference'])}</code>
{f"(field <code>{e(doc['label_field'])}</code>)" if doc.get('label_field') else ''}<br>
Reference classes: <code>{e(doc['reference_class_map'])}</code><br>
Classes of the map from {e(doc['classes_from'])}.</p>
<h2>Summary</h2><table>{summary_rows}</table>
<h2>Per class</h2>
<table><tr><th>Class</th><th>IoU</th><th>F1</th><th>Precision</th><th>Recall</th><th>Reference px</th>
<th>Predicted px</th></tr>{class_rows}</table>
<h2>Confusion matrix</h2><p>Rows: reference; columns: prediction.</p>
<table><tr><th></th>{head}</tr>{cm_rows}</table>
<h2>Class matching</h2><ul>{matching}</ul>
<p>Only pixels where the reference has a class and the class map is not nodata are counted
({doc['nodata_pixels_skipped']:,} labelled pixels were nodata in the map).</p>
</body></html>
"""

