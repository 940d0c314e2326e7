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


def _area(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f} {unit}" if unit == "ha" else f"{value:,.0f} {unit}"


def mapped_area_html(doc: dict[str, Any]) -> str:
    """The map's area per class over the whole map (hectares where the CRS is projected)."""
    rows = doc.get("mapped_area") or []
    if not rows:
        return ""
    body = "".join(f"<tr><td>{html.escape(r['name'])}</td><td>{r['pixels']:,}</td>"
                   f"<td>{_area(r['area_ha'], 'ha')}</td><td>{pct(r['share'])}</td></tr>" for r in rows)
    return ("<h2>Mapped area per class</h2><p>All pixels of the class map, labelled or not.</p>"
            f"<table><tr><th>Class</th><th>Pixels</th><th>Area</th><th>Share</th></tr>{body}</table>")


def per_field_html(doc: dict[str, Any], shown: int = 50) -> str:
    """Scores per field (polygon references): summary, per class, confusion matrix, the worst fields."""
    fields = doc.get("per_field")
    if not fields:
        return ""
    e = html.escape
    names = [c["name"] for c in fields["per_class"]]
    class_rows = "".join(
        f"<tr><td>{e(c['name'])}</td><td>{num(c['f1'])}</td><td>{num(c['precision'])}</td><td>{num(c['recall'])}"
        f"</td><td>{c['reference_pixels']:,}</td><td>{c['predicted_pixels']:,}</td></tr>" for c in fields["per_class"])
    cm_rows = "".join(f"<tr><th>{e(names[i])}</th>" + "".join(f"<td>{v:,}</td>" for v in row) + "</tr>"
                      for i, row in enumerate(fields["confusion_matrix"]))
    wrong = sorted((f for f in fields["field_list"] if not f["correct"]), key=lambda f: -f["pixels"])[:shown]
    wrong_rows = "".join(f"<tr><td>{f['fid']}</td><td>{e(f['reference'])}</td><td>{e(f['majority'])}</td>"
                         f"<td>{pct(f['majority_share'])}</td><td>{f['pixels']:,}</td></tr>" for f in wrong)
    return f"""<h2>Per field</h2>
<p>Each field's class is the majority of its evaluated pixels; {fields['fields']:,} fields evaluated
({fields['fields_without_pixels']:,} without an evaluated pixel). Overall accuracy {pct(fields['overall_accuracy'])},
mean F1 {num(fields['mean_f1'])}, kappa {num(fields['kappa'])}.</p>
<table><tr><th>Class</th><th>F1</th><th>Precision</th><th>Recall</th><th>Reference fields</th>
<th>Mapped fields</th></tr>{class_rows}</table>
<p>Confusion matrix of the fields (rows: reference; columns: majority class).</p>
<table><tr><th></th>{''.join(f'<th>{e(n)}</th>' for n in names)}</tr>{cm_rows}</table>
{f'<p>The largest wrong fields (of {sum(not f["correct"] for f in fields["field_list"]):,}; all in the JSON):</p>'
 f'<table><tr><th>Feature id</th><th>Reference</th><th>Majority</th><th>Share</th><th>Pixels</th></tr>{wrong_rows}'
 '</table>' if wrong else '<p>Every evaluated field has its reference class.</p>'}"""


def area_adjusted_html(doc: dict[str, Any]) -> str:
    """Olofsson et al. (2014) estimates: class areas with 95 % intervals, user's and producer's accuracy."""
    est = doc.get("area_adjusted")
    if not est:
        return ""
    unit = est["unit"]
    pm = " ± "

    def interval(value: float | None, half: float | None, fmt) -> str:
        return fmt(value) + (pm + fmt(half) if half is not None else "")

    rows = "".join(
        f"<tr><td>{html.escape(c['name'])}</td><td>{_area(c['mapped_area'], unit)}</td><td>{c['sample_units']:,}</td>"
        f"<td>{interval(c['area'], c['area_half_width'], lambda v: _area(v, unit))}</td>"
        f"<td>{interval(c['users_accuracy'], c['users_half_width'], pct)}</td>"
        f"<td>{interval(c['producers_accuracy'], c['producers_half_width'], pct)}</td></tr>"
        for c in est["classes"])
    unsampled = html.escape(", ".join(est["strata_without_sample"]))
    missing = (f"<p><strong>Mapped classes without a sample unit:</strong> {unsampled}; the estimates leave out "
               "their share of the map.</p>" if unsampled else "")
    return f"""<h2>Area-adjusted estimates</h2>
<p>The reference taken as a probability sample (simple or stratified random, the map's classes as strata) of
{est['sample_units']:,} {est['sample_unit']}s; estimator of Olofsson et al. (2014), intervals at 95 %.
Overall accuracy {interval(est['overall_accuracy'], est['overall_half_width'], pct)}.</p>{missing}
<table><tr><th>Class</th><th>Mapped area</th><th>Sample units</th><th>Estimated area</th><th>User's accuracy</th>
<th>Producer's accuracy</th></tr>{rows}</table>"""


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
{mapped_area_html(doc)}
{per_field_html(doc)}
{area_adjusted_html(doc)}
<h2>Class matching</h2><ul>{matching}</ul>
<p>Only pixels where the reference has a class and the class map is not nodata are counted
({doc['nodata_pixels_skipped']:,} labelled pixels were nodata in the map).</p>
""")

