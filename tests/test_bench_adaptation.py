"""bench/adaptation.py's reproducibility: --variant rows that would silently run the defaults are refused, the
machine is recorded, a repeated seed's run-to-run spread is printed beside the margins, weak oracles are flagged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import adaptation as bench  # noqa: E402


@pytest.mark.parametrize(("text", "why"), [
    ("self_training:lambda_contrast=0", "self_training has no setting lambda_contrast"),
    ("spcl:lambda_contrst=0", "spcl has no setting lambda_contrst"),
    ("spcl:recalibrate_bn=yes", "is not a bool"),
    ("spcl:pixel_stride=1.5", "is not a int"),
    ("spcl:hard_schedule=3", "is not a str"),
    ("spcl:split=all", "overrides split itself"),
    ("spcl:output=x.safetensors", "spcl has no setting output"),
    ("source:lr=0.1", "source has no setting lr"),
    ("nothing:lr=0.1", "unknown method"),
])
def test_a_variant_that_would_run_the_defaults_is_refused(text, why):
    with pytest.raises(SystemExit, match=why):
        bench.parse_variant(text)


def test_variants_parse_to_typed_overrides():
    assert bench.parse_variant("spcl") == ("spcl", "spcl", {})
    label, method, overrides = bench.parse_variant("spcl:lambda_contrast=0;recalibrate_bn=false;hard_schedule=linear")
    assert (label, method) == ("spcl:lambda_contrast=0;recalibrate_bn=false;hard_schedule=linear", "spcl")
    assert overrides == {"lambda_contrast": 0.0, "recalibrate_bn": False, "hard_schedule": "linear"}
    assert isinstance(overrides["lambda_contrast"], float)
    assert bench.parse_variant("source:statistics_alignment=mean_std")[2] == {"statistics_alignment": "mean_std"}


def test_the_machine_is_recorded():
    info = bench.machine_info(1)
    assert {"torch", "cpu_model", "threads", "torch_threads", "cpus", "python"} <= set(info)
    assert info["cpu_model"] and info["torch_threads"] >= 1


def item(seed, spcl, entropy, source=0.5, oracle=0.9, strength=1.0):
    result = {"miou": None, "iou": {"a": 0.5}}
    return {"suite": "synthetic", "strength": strength, "seed": seed, "classes": ["a"],
            "source": result | {"miou": source}, "oracle": result | {"miou": oracle},
            "methods": {"spcl": result | {"miou": spcl}, "entropy": result | {"miou": entropy}}}


def test_paired_margins_print_the_run_to_run_spread_of_a_repeated_seed():
    items = [item(0, 0.70, 0.60), item(1, 0.66, 0.62)]
    line = bench.paired(items, "spcl")
    assert "best other method +0.070" in line and "wins 2/2" in line and "run-to-run" not in line
    again = [item(0, 0.71, 0.60)]  # seed 0 run twice: its margins move by 0.01
    line = bench.paired(items, "spcl", again)
    assert "run-to-run spread of the margins 0.010 (seed 0 run twice)" in line


def test_a_weak_oracle_is_flagged():
    assert bench.weak_oracle(item(0, 0.70, 0.60)) == []
    weak = item(0, 0.70, 0.60, oracle=0.71)
    assert any("not 0.02 above spcl" in r for r in bench.weak_oracle(weak))
    below = item(0, 0.70, 0.60)
    below["oracle"]["iou"] = {"a": 0.49}  # within MIN_GAP of source-only: not weak
    assert bench.weak_oracle(below) == []
    below["oracle"]["iou"] = {"a": 0.4}
    assert any("a IoU 0.400 below source-only" in r for r in bench.weak_oracle(below))
    rows = bench.summarise([weak | {"source_train_seconds": 1, "oracle_train_seconds": 1,
                                    "oracle_weak": bench.weak_oracle(weak)}
                            | {"methods": {k: v | {"seconds": 1} for k, v in weak["methods"].items()}}])
    assert "oracle weak (no ceiling) in 1/1 runs" in bench.table(rows)


def test_the_ablation_lines_give_each_variants_paired_difference():
    items = [item(0, 0.70, 0.60), item(1, 0.66, 0.62)]
    items[0]["methods"]["spcl:lambda_contrast=0"] = {"miou": 0.65, "iou": {"a": 0.5}}
    items[1]["methods"]["spcl:lambda_contrast=0"] = {"miou": 0.67, "iou": {"a": 0.5}}
    text = bench.ablation(items, "spcl")
    assert "spcl - spcl:lambda_contrast=0: +0.020 (sd 0.042" in text and "wins 1/2" in text
    assert "best other method +0.070" in bench.paired(items, "spcl")  # its own variants are not "other methods"
    assert "Ablation" in bench.paired_all(items, ["spcl"])


def test_compute_is_counted_per_step_and_the_counters_are_removed(tmp_path):
    import torch
    from test_partition import make_random_target

    from crops_engine.adapt.target import TargetBlocks
    from crops_engine.blocks import BlockStore
    from crops_engine.checkpoint import load_model

    t = make_random_target(tmp_path)
    model, meta = load_model(t["model"])
    call = bench.SegmentationModel.__call__
    with BlockStore(t["store"]) as store:
        blocks = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], [0, 1, 2])
        with bench.counted_compute(iterations=2) as counts:
            images = torch.stack([blocks[i]["image"] for i in range(3)])
            model.train()
            model(images).logits.sum().backward()  # a student pass of 3 blocks
            with torch.no_grad():
                model(images[:2])  # a teacher pass of 2
            model.eval()
            model(images[:1])  # eval mode counts as no gradient
        blocks[0]  # after the context: not counted
    assert counts["forward_blocks_with_grad"] == 3 and counts["forward_blocks_no_grad"] == 3
    assert counts["forward_calls"] == 3 and counts["blocks_read"] == 3
    assert counts["forward_blocks_with_grad_per_step"] == 1.5 and counts["blocks_read_per_step"] == 1.5
    assert bench.SegmentationModel.__call__ is call
