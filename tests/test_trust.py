"""Trust without labels: what an adaptation changed, from the source and adapted models alone."""

from __future__ import annotations

import numpy as np
import pytest

from crops_engine.trust import BINS, Comparison, ModelStats, share_warnings


def probs_of(labels: np.ndarray, k: int, confidence: float) -> np.ndarray:
    """(N, K, H, W) probabilities putting `confidence` on `labels`, the rest spread evenly."""
    p = np.full((labels.shape[0], k) + labels.shape[1:], (1 - confidence) / (k - 1), np.float32)
    np.put_along_axis(p, labels[:, None], confidence, axis=1)
    return p


def test_comparison_counts_shares_transitions_and_histograms():
    before = np.array([[[0, 0, 1, 1], [2, 2, 2, 2]]])
    after = np.array([[[0, 1, 1, 1], [2, 2, 0, 2]]])
    valid = np.ones(before.shape, bool)
    valid[0, 1, 3] = False  # one nodata pixel: not counted
    c = Comparison.empty(3)
    c.add(probs_of(before, 3, 0.8), probs_of(after, 3, 0.95), valid)
    assert c.pixels == 7
    assert c.before.counts.tolist() == [2, 2, 3] and c.after.counts.tolist() == [2, 3, 2]
    assert c.transitions.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert c.changed_share == pytest.approx(2 / 7)
    assert c.before.confidence.sum() == 7 and c.before.confidence[int(0.8 * BINS)] == 7
    assert c.after.confidence[BINS - 1] == 7  # 0.95 falls into the last bin
    assert c.before.entropy.sum() == 7 and c.before.confidence_sum.sum() == pytest.approx(7 * 0.8)


def test_share_warnings_name_collapsing_and_exploding_classes():
    names = ["maize", "grass", "other"]
    assert share_warnings(names, np.array([0.11, 0.5, 0.39]), np.array([0.12, 0.48, 0.40])) == []
    notes = share_warnings(names, np.array([0.11, 0.5, 0.39]), np.array([0.64, 0.30, 0.06]))
    assert any("maize" in n and "exploded" in n for n in notes)
    assert any("other" in n and "collapsed" in n for n in notes)
    assert not any("grass" in n for n in notes)
    # a rare class moving a little is not an explosion (it must also gain 10 points)
    assert share_warnings(names, np.array([0.01, 0.5, 0.49]), np.array([0.03, 0.5, 0.47])) == []


def test_model_stats_of_a_uniform_prediction_are_undecided():
    s = ModelStats.empty(4)
    s.add(np.full((1, 4, 2, 2), 0.25, np.float32), np.ones((1, 2, 2), bool))
    assert s.entropy[BINS - 1] == 4  # normalised entropy 1


@pytest.fixture(scope="module")
def models(sample_pipeline, tmp_path_factory):
    """The sample source model and a 'collapsed' adaptation of it: a head bias that predicts class 0 everywhere."""
    import torch

    from crops_engine.checkpoint import load_model, save_checkpoint

    folder = tmp_path_factory.mktemp("trust")
    model, meta = load_model(sample_pipeline["model"])
    with torch.no_grad():
        model.segmentation_head.bias[0] += 100.0
    collapsed = folder / "collapsed.safetensors"
    save_checkpoint(collapsed, model, meta)
    return {"source": sample_pipeline["model"], "collapsed": collapsed, "store": sample_pipeline["target_store"],
            "folder": folder, "classes": meta.class_names}


def test_a_collapsed_adaptation_is_reported_with_its_agreement_map(models, tmp_path):
    from osgeo import gdal

    from crops_engine.trust import compare_on_store

    report, agreement = tmp_path / "trust.html", tmp_path / "agreement.tif"
    result = compare_on_store(models["source"], models["collapsed"], models["store"], report, agreement,
                              device="cpu", batch_size=8)
    first = models["classes"][0]
    assert result["shares_after"][first] == pytest.approx(1.0)
    assert any(first in w and "exploded" in w for w in result["warnings"])
    assert 0 < result["changed_share"] < 1
    ds = gdal.Open(str(agreement))
    values = ds.GetRasterBand(1).ReadAsArray()
    ds = None
    changed, unchanged = int((values == 2).sum()), int((values == 1).sum())
    assert changed + unchanged == result["pixels"]  # the blocks tile the store: each pixel once
    assert changed == pytest.approx(result["changed_share"] * result["pixels"], abs=0.5)
    assert (tmp_path / "agreement.qml").is_file()
    text = report.read_text()
    assert "exploded" in text and text.count("data:image/png;base64,") == 4
    assert not list(tmp_path.glob("*crops-tmp*"))


def test_a_model_compared_with_itself_changed_nothing(models, tmp_path):
    from crops_engine.trust import compare_on_store

    result = compare_on_store(models["source"], models["source"], models["store"], tmp_path / "same.html",
                              device="cpu")
    assert result["changed_share"] == 0.0 and result["warnings"] == []
    assert result["shares_before"] == result["shares_after"]


def test_trust_report_refuses_models_of_other_classes_and_a_non_html_report(models, tmp_path):
    from crops_engine.errors import CropsError
    from crops_engine.trust import compare_on_store

    with pytest.raises(CropsError, match="HTML"):
        compare_on_store(models["source"], models["source"], models["store"], tmp_path / "r.txt")
    assert not list(tmp_path.iterdir())


def test_every_adaptation_run_writes_its_trust_report(models, tmp_path, capsys):
    """The adapt command (and adapt_spcl, through the same call) ends with the trust report beside the model."""
    import json

    from crops_engine import cli

    out = tmp_path / "adapted.safetensors"
    code = cli.main(["--json-events", "adapt", "--method", "entropy", "--model", str(models["source"]),
                     "--blocks", str(models["store"]), "--iterations", "2", "--batch-size", "2", "--device", "cpu",
                     "--amp", "false", "--threads", "1", "--output", str(out)])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 0, events[-1]
    result = events[-1]["outputs"]
    assert result["trust_report"] == str(tmp_path / "adapted.trust.html")
    assert result["agreement"] == str(tmp_path / "adapted.agreement.tif")
    assert (tmp_path / "adapted.agreement.qml").is_file()
    assert 0.0 <= result["changed_share"] <= 1.0
    assert "data:image/png;base64," in (tmp_path / "adapted.trust.html").read_text()
    progress = [e["value"] for e in events if e["event"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0  # one bar: the adaptation, then the report
    assert any(e["event"] == "log" and "changed the class of" in e["text"] for e in events)
