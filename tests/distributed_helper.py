"""What tests/test_distributed.py runs under torchrun (`torchrun ... tests/distributed_helper.py MODE ARGS`).

Modes: `cli ARGS` (the engine's command line), `composite OUT_FOLDER SCENES_FOLDER` (NDVI-QM with small windows),
`reduce OUT.json` (the adaptation methods' statistics, PPPC's Gaussian prototypes among them, on this process's
half of a fixed batch, inside a step).
With CROPS_TEST_AUDIT=PREFIX every process logs the files it renames, or opens for writing, to PREFIX.<rank>
(Python's audit hooks: what a process writes through Python, and every output's final rename).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _audit(prefix: str) -> None:
    log = open(f"{prefix}.{os.environ.get('RANK', 'x')}", "a", encoding="utf-8")  # noqa: SIM115 - for the process
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def hook(event: str, args: tuple) -> None:
        if event == "os.rename":
            log.write(json.dumps(["rename", str(args[0]), str(args[1])]) + "\n")
            log.flush()
        elif event == "open" and len(args) >= 3:
            path, mode, flags = args[0], args[1], args[2]
            if isinstance(path, int):
                return
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (mode is None and int(flags) & writing):
                log.write(json.dumps(["open", str(path)]) + "\n")
                log.flush()

    sys.addaudithook(hook)


def composite(out: str, scenes_folder: str) -> None:
    from datetime import datetime

    from crops_engine import distributed
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.scenes import Scene

    distributed.start("ndvi-qm")
    scenes = []
    for path in sorted(Path(scenes_folder).glob("S2_????????.tif")):
        d = path.stem[3:]
        scenes.append(Scene(path, datetime(int(d[:4]), int(d[4:6]), int(d[6:]), 10, 50),
                            path.with_name(path.stem + "_SCL.tif")))
    options = CompositeOptions(red_band=3, nir_band=4, window=16, workers=1)
    ndvi_quality_mosaic(scenes, Path(out) / "qm.tif", options, Path(out) / "qa.tif")


def batch() -> tuple:
    """A fixed batch of 4 blocks: unit embeddings (4, 6, 5, 7), labels with IGNORE pixels, probabilities, valid."""
    import torch

    from crops_engine.metrics import IGNORE_INDEX

    gen = torch.Generator().manual_seed(7)
    emb = torch.nn.functional.normalize(torch.randn(4, 6, 5, 7, generator=gen, dtype=torch.float64), dim=1).float()
    labels = torch.randint(0, 3, (4, 5, 7), generator=gen)
    labels[:, 0, :3] = IGNORE_INDEX
    probs = torch.softmax(3 * torch.randn(4, 3, 5, 7, generator=gen), dim=1)
    valid = torch.rand(4, 5, 7, generator=gen) > 0.2
    return emb, labels, probs, valid


def log_variance() -> object:
    """PPPC's per-pixel log-variances (4, 6, 5, 7) for `batch`'s embeddings."""
    import torch

    return torch.randn(4, 6, 5, 7, generator=torch.Generator().manual_seed(8), dtype=torch.float64).float() - 3.0


def reduce_statistics(out: str) -> None:
    """Each process's half of one batch through the methods' statistics, inside a step; process 0 writes them."""
    import torch

    from crops_engine import distributed
    from crops_engine.adapt.alignment import DistributionAlignment
    from crops_engine.adapt.pppc import GaussianPrototypeEstimator
    from crops_engine.adapt.prototypes import PrototypeEstimator
    from crops_engine.adapt.pseudo_labels import ConfidenceHistogram
    from crops_engine.adapt.watch import CollapseWatch
    from crops_engine.progress import silent

    distributed.start("adapt-spcl")
    w = distributed.world()
    emb, labels, probs, valid = (t.chunk(w.size)[w.rank] for t in batch())
    log_var = log_variance().chunk(w.size)[w.rank]
    prototypes = PrototypeEstimator(3, emb.shape[1])
    gaussian = GaussianPrototypeEstimator(3, emb.shape[1])
    watch = CollapseWatch(["a", "b", "c"], silent())
    histogram = ConfidenceHistogram(3)
    alignment = DistributionAlignment()
    alignment.start(torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
    with distributed.reducing():
        prototypes.update(emb, labels)
        gaussian.update(emb, labels, valid, log_var=log_var)
        watch.count(labels)
        histogram.update(probs, valid)
        aligned = alignment(probs, valid)
    watch.report(1, prototypes)
    local = {"mean": prototypes.mean.tolist(), "count": prototypes.count.tolist(), "shares": watch.last_shares.tolist(),
             "histogram": histogram.counts.tolist(), "running": alignment.running.tolist(),
             "aligned_first": aligned[0, :, 0, 0].tolist(), "gaussian_mean": gaussian.mean.tolist(),
             "gaussian_variance": gaussian.variance(torch.float64).tolist(),
             "gaussian_count": gaussian.count.tolist()}
    everyone = distributed.all_gather_object(local)
    if w.writer:
        Path(out).write_text(json.dumps(everyone), encoding="utf-8")


def main() -> int:
    if os.environ.get("CROPS_TEST_AUDIT"):
        _audit(os.environ["CROPS_TEST_AUDIT"])
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "cli":
        from crops_engine.cli import main as cli

        return cli(args)
    if mode == "composite":
        composite(*args)
    elif mode == "reduce":
        reduce_statistics(*args)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
