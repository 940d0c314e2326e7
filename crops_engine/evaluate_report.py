"""The evaluation report as a self-contained HTML page: summary, per-class table and bars, confusion matrix
(table and picture), areas per class, and a thumbnail of where the map is right and wrong."""

from __future__ import annotations

import html
from typing import Any

from .report_html import page


def num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def figures_html(doc: dict[str, Any], errors: Any = None) -> str:
    """The report's pictures (PNG data URIs): IoU / F1 per class, the confusion matrix, reference and mapped
    area per class, and `errors` (a small correct / wrong / unlabelled raster) when given."""
    from .plots import ERROR_COLOURS, ERROR_LABELS, bar_chart, category_image, confusion_image, img_tag

    names = [c["name"] for c in doc["per_class"]]
    parts = [
        img_tag(bar_chart(names, {"IoU": [c["iou"] for c in doc["per_class"]],
                                  "F1": [c["f1"] for c in doc["per_class"]]}, "Per class", "score", limits=(0, 1)),
                "IoU and F1 per class"),
        img_tag(confusion_image(doc["confusion_matrix"], names), "Confusion matrix"),
    ]
    area = doc.get("pixel_area_ha")
    unit, scale = ("ha", area) if area else ("pixels", 1.0)
    parts.append(img_tag(bar_chart(names, {
        "reference": [c["reference_pixels"] * scale for c in doc["per_class"]],
        "map": [c["predicted_pixels"] * scale for c in doc["per_class"]]},
        "Area per class (evaluated pixels)", unit), "Area per class"))
    if errors is not None:
        parts.append(img_tag(category_image(errors, ERROR_COLOURS, ERROR_LABELS, "Where the map is right"),
                             "Correct and wrong pixels"))
    return "\n".join(f"<figure>{p}</figure>" for p in parts)


def render_html(doc: dict[str, Any], errors: Any = None) -> str:
    """A self-contained HTML page: summary, pictures, per-class table, confusion matrix."""
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
    return page("CROPS evaluation", f"""<h1>Class map evaluation</h1>
<p>Class map: <code>{e(doc['class_map'])}</code><br>Reference: <code>{e(doc['reference'])}</code>
{f"(field <code>{e(doc['label_field'])}</code>)" if doc.get('label_field') else ''}<br>
Reference classes: <code>{e(doc['reference_class_map'])}</code><br>
Classes of the map from {e(doc['classes_from'])}.</p>
<h2>Summary</h2><table>{summary_rows}</table>
<h2>Pictures</h2>{figures_html(doc, errors)}
<h2>Per class</h2>
<table><tr><th>Class</th><th>IoU</th><th>F1</th><th>Precision</th><th>Recall</th><th>Reference px</th>
<th>Predicted px</th></tr>{class_rows}</table>
<h2>Confusion matrix</h2><p>Rows: reference; columns: prediction.</p>
<table><tr><th></th>{head}</tr>{cm_rows}</table>
<h2>Class matching</h2><ul>{matching}</ul>
<p>Only pixels where the reference has a class and the class map is not nodata are counted
({doc['nodata_pixels_skipped']:,} labelled pixels were nodata in the map).</p>
""")

