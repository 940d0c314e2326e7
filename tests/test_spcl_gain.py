"""End to end: on the sample pair (crops_engine.synth, the `target` preset's shift from `source`), SPCL with its
defaults raises the target mIoU over the source model's, for two adaptation seeds, and a run repeats exactly.

Deterministic on a CPU (fixed seeds; the loop's data order and augmentation depend only on the seed), a few
seconds per run on the session's sample pipeline. Measured on the 2-core development machine with the issue-14
defaults: source-only 0.396, SPCL 0.462 (seed 0) and 0.469 (seed 1) after 30 steps (with the earlier defaults:
0.400, 0.491, 0.469); the test asks for about half the smaller gain, so a change of floating-point rounding on
another machine does not decide it but a broken part of SPCL does.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from crops_engine.adapt import adapt, make_config  # noqa: E402
from crops_engine.block_dataset import model_inputs  # noqa: E402
from crops_engine.blocks import BlockStore  # noqa: E402
from crops_engine.checkpoint import load_model  # noqa: E402
from crops_engine.metrics import ConfusionAccumulator  # noqa: E402
from crops_engine.partition import PartitionOptions, partition  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402

MIN_GAIN = 0.035  # about half the smaller measured gain (0.066)
STEPS = 30


def target_miou(model_path, labelled) -> float:
    """mIoU of the model on every labelled pixel of the target (labels read here, to score, never by SPCL)."""
    model, meta = load_model(model_path)
    model.eval()
    with BlockStore(labelled) as store:
        idx = np.arange(len(store))
        x, _ = model_inputs(store, meta, idx)
        with torch.inference_mode():
            pred = model(torch.from_numpy(x)).logits.argmax(1).numpy().astype(np.uint8)
        acc = ConfusionAccumulator(len(store.classes))
        acc.update(pred, store.labels(idx))
    return float(acc.mean_iou)


def test_spcl_raises_target_miou_over_source_only(sample_pipeline, tmp_path):
    torch.set_num_threads(1)
    target = tmp_path / "target.h5"
    shutil.copy(sample_pipeline["target_store"], target)
    partition(sample_pipeline["model"], target, options=PartitionOptions(device="cpu"))
    source = target_miou(sample_pipeline["model"], sample_pipeline["target_labelled"])

    def run(seed: int, name: str) -> float:
        out = tmp_path / f"{name}.safetensors"
        cfg = make_config("spcl", model=str(sample_pipeline["model"]), blocks=str(target), output=str(out),
                          iterations=STEPS, batch_size=4, device="cpu", seed=seed)
        adapt("spcl", cfg, Progress())
        return target_miou(out, sample_pipeline["target_labelled"])

    gains = {seed: run(seed, f"spcl_{seed}") - source for seed in (0, 1)}
    assert min(gains.values()) >= MIN_GAIN, f"source-only {source:.3f}, SPCL gains {gains}"
    again = run(0, "spcl_0_again")
    assert again - source == pytest.approx(gains[0], abs=1e-9)  # a run repeats exactly
