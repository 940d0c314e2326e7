"""The sample pair carried through composite, block stores and a briefly trained source model.

Built once per test session (tests share it through the `sample_pipeline` fixture), so the
suite trains one tiny source model instead of one per test file.
"""

from __future__ import annotations

from pathlib import Path

# A tiny U-Net: trains in seconds on a CPU, still learns the sample crops.
TINY = {"encoder": "lcnet_050", "decoder_channels": [8, 8, 8, 8, 8], "embedding_dim": 8}


def build_pipeline(root: Path, pair: Path) -> dict:
    """Composites, stores (target without labels, and a labelled copy used only for scoring), model."""
    from crops_engine.blocks import build_block_store
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.scenes import load_scenes
    from crops_engine.train import TrainConfig, train_source

    paths = {
        "source_composite": root / "source.tif",
        "target_composite": root / "target.tif",
        "source_store": root / "source.h5",
        "target_store": root / "target.h5",
        "target_labelled": root / "target_labelled.h5",
        "model": root / "source.safetensors",
        "pair": pair,
    }
    if (root / "ready").exists():
        return paths
    root.mkdir(parents=True, exist_ok=True)
    for domain in ("source", "target"):
        scenes = load_scenes(folder=pair / domain / "scenes", pattern="S2_L2A_????????.tif")
        ndvi_quality_mosaic(scenes, paths[f"{domain}_composite"], CompositeOptions(workers=1))
    build_block_store(
        paths["source_composite"], paths["source_store"], labels=pair / "source" / "labels.tif",
        block_size=32, val_fraction=0.0,
    )  # fmt: skip
    build_block_store(paths["target_composite"], paths["target_store"], block_size=32, val_fraction=0.0)
    build_block_store(
        paths["target_composite"], paths["target_labelled"], labels=pair / "target" / "labels.tif",
        block_size=32, val_fraction=0.0,
    )  # fmt: skip
    train_source(
        TrainConfig(
            blocks=str(paths["source_store"]), output=str(paths["model"]), arch_args=TINY,
            iterations=150, batch_size=8, lr=3e-3, device="cpu", seed=0,
        )
    )  # fmt: skip
    (root / "ready").write_text("ok")
    return paths
