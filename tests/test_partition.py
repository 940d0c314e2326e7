"""Easy / hard partition: scores, split rules, block ownership, the store and map outputs, errors,
cancel, the CLI, and that the split is informative (easy blocks are more accurate) on the sample pair."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from osgeo import gdal  # noqa: E402

from crops_engine import cli  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store, lattice  # noqa: E402
from crops_engine.checkpoint import file_sha256, load_model, save_checkpoint  # noqa: E402
from crops_engine.classes import CropClass  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.partition import PartitionOptions, block_scores, partition, split_blocks  # noqa: E402
from crops_engine.partition_maps import CONFIDENCE_NODATA, owned_spans  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff  # noqa: E402

torch.set_num_threads(1)

BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
from sample_pipeline import TINY  # noqa: E402 - the tiny U-Net the shared pipeline trains

# -- helpers shared with test_adapt.py and test_partition_qgis.py --------------------------------------


def make_random_target(root: Path, size: int = 48, block: int = 16, stride: int = 8, seed: int = 0) -> dict:
    """A 10-band composite with a nodata corner, its target store (overlapping blocks) and an untrained
    3-class checkpoint on its features: the fast fixture for everything that needs no trained model."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    grid = Grid(size, size, (600000.0, 10.0, 0.0, 5700000.0, 0.0, -10.0), epsg_wkt(32631))
    yy, xx = np.mgrid[0:size, 0:size]
    data = (rng.normal(0.2, 0.05, (10, size, size)) + 0.2 * ((xx // 12 + yy // 12) % 3)).astype(np.float32)
    data[:, :10, :13] = -9999.0  # a corner without data
    composite = root / "composite.tif"
    ds = create_geotiff(composite, grid, 10, np.float32, -9999.0, BANDS)
    for i in range(10):
        ds.GetRasterBand(i + 1).WriteArray(data[i])
    finish_geotiff(ds)
    del ds  # GDAL writes the file when the last reference goes
    store = root / "target.h5"
    build_block_store(composite, store, block_size=block, stride=stride, val_fraction=0.0)
    labels = root / "labels.tif"
    ds = create_geotiff(labels, grid, 1, np.uint16, 0)
    ds.GetRasterBand(1).WriteArray((((xx // 12 + yy // 12) % 3) + 1).astype(np.uint16))
    finish_geotiff(ds)
    from crops_engine.models import build_model

    torch.manual_seed(seed)
    model = build_model("unet", 10, 3, **TINY)
    checkpoint = root / "model.safetensors"
    classes = [CropClass(i, f"class{i}", c, i + 1) for i, c in enumerate(["#ff0000", "#00ff00", "#0000ff"])]
    valid = data[0] != -9999.0
    save_checkpoint(checkpoint, model, {
        "features": BANDS, "classes": classes, "block_size": block,
        "normalisation": {"mean": [float(data[b][valid].mean()) for b in range(10)],
                          "std": [float(data[b][valid].std()) for b in range(10)]},
    })
    return {"composite": composite, "store": store, "model": checkpoint, "labels": labels, "grid": grid,
            "valid": valid}


@pytest.fixture(scope="module")
def random_target(tmp_path_factory):
    return make_random_target(tmp_path_factory.mktemp("random-target"))


# -- scores and split rules -------------------------------------------------------------------------


def test_block_scores_match_hand_computed_values():
    probs = np.zeros((2, 2, 2, 2), dtype=np.float32)
    probs[0, 0] = [[0.9, 0.6], [0.5, 0.95]]
    probs[0, 1] = 1 - probs[0, 0]
    probs[1, 0] = [[0.2, 0.3], [0.5, 0.5]]
    probs[1, 1] = 1 - probs[1, 0]
    valid = np.array([[[True, True], [True, False]], [[True, True], [False, False]]])
    scores, dominant, _ = block_scores(probs, valid, "max_probability")
    assert np.allclose(scores, [(0.9 + 0.6 + 0.5) / 3, (0.8 + 0.7) / 2])
    assert dominant.tolist() == [0, 1]
    scores, _, conf = block_scores(probs, valid, "entropy")

    def certainty(p):
        return 1 + (p * np.log(p) + (1 - p) * np.log(1 - p)) / np.log(2)

    assert np.allclose(scores[1], (certainty(0.2) + certainty(0.3)) / 2, atol=1e-5)
    assert np.isclose(conf[0, 1, 0], 0.0, atol=1e-6)  # 0.5 / 0.5: no certainty at all
    scores, _, _ = block_scores(probs, valid, "confident_fraction", conf_threshold=0.75)
    assert np.allclose(scores, [1 / 3, 1 / 2])  # max probabilities 0.9, 0.6, 0.5 and 0.8, 0.7
    scores, dominant, _ = block_scores(probs, np.zeros_like(valid), "max_probability")
    assert np.isnan(scores).all() and (dominant == -1).all()


def test_split_by_fraction_threshold_and_per_class():
    scores = np.array([0.9, 0.1, 0.8, 0.7, 0.2, 0.3, 0.95, 0.4])
    easy, hard = split_blocks(scores, easy_fraction=0.5)
    assert easy.tolist() == [0, 2, 3, 6] and hard.tolist() == [1, 4, 5, 7]
    easy, hard = split_blocks(scores, score_threshold=0.75)
    assert easy.tolist() == [0, 2, 6]
    # class 1 (blocks 1, 4, 5) scores low everywhere: per class it still gets easy blocks
    dominant = np.array([0, 1, 0, 0, 1, 1, 0, 0])
    easy, hard = split_blocks(scores, easy_fraction=0.5, dominant=dominant)
    assert easy.tolist() == [0, 2, 4, 5, 6]  # half of each class, rounded half up: 3 of 5 and 2 of 3
    assert sorted(np.concatenate([easy, hard]).tolist()) == list(range(8))
    easy, _ = split_blocks(scores, score_threshold=0.75, dominant=dominant)
    assert easy.tolist() == [0, 2, 5, 6]  # class 1's best block (0.3) joins the easy ones
    easy, hard = split_blocks(scores, easy_fraction=0.0)
    assert easy.size == 0 and hard.size == 8
    easy, hard = split_blocks(np.array([0.5, 0.5, 0.5]), easy_fraction=0.34)
    assert easy.tolist() == [0]  # ties go to the first block


@pytest.mark.parametrize(("size", "block", "stride"), [(48, 16, 8), (50, 16, 8), (40, 16, 16), (37, 10, 3), (9, 16, 4)])
def test_owned_spans_tile_the_window_and_pick_the_nearest_block_centre(size, block, stride):
    start = 5
    origins = lattice(start, size, block, stride)
    spans = owned_spans(start, size, block, stride)
    assert spans[0][0] == start and spans[-1][1] == start + size
    for (lo, hi), (lo2, _) in zip(spans, spans[1:], strict=False):
        assert hi == lo2 and lo < hi
    for o, (lo, hi) in zip(origins, spans, strict=True):
        assert o <= lo and hi <= o + block  # a block owns only pixels it holds
        for p in range(lo, hi):
            distances = [abs(p + 0.5 - (q + block / 2)) for q in origins if q <= p < q + block]
            assert abs(p + 0.5 - (o + block / 2)) == min(distances)


# -- the partition on a store -------------------------------------------------------------------------


def test_partition_writes_store_mask_and_confidence(random_target, tmp_path):
    t = random_target
    store_path = tmp_path / "target.h5"
    store_path.write_bytes(Path(t["store"]).read_bytes())
    mask, confidence = tmp_path / "mask.tif", tmp_path / "confidence.tif"
    result = partition(t["model"], store_path, mask, confidence,
                       PartitionOptions(score="entropy", easy_fraction=0.25, device="cpu", batch_size=5))
    with BlockStore(store_path) as store:
        n = len(store)
        easy, hard = store.split("easy"), store.split("hard")
        scores = store.scores
        info = store.partition_info
        origins = store.origins
        window_grid = store.grid.window(*store.window)
    assert result["easy_blocks"] == len(easy) == int(np.floor(0.25 * n + 0.5)) and len(easy) + len(hard) == n
    assert not set(easy) & set(hard)
    assert scores.shape == (n,) and np.all((scores >= 0) & (scores <= 1))
    assert scores[easy].min() >= scores[hard].max()
    assert info["score"] == "entropy" and info["model_sha256"] == file_sha256(t["model"])

    m = gdal.Open(str(mask))
    assert Grid.of(m).same_as(window_grid)
    values = m.GetRasterBand(1).ReadAsArray()
    assert m.GetRasterBand(1).GetNoDataValue() == 0
    assert set(np.unique(values)) <= {0, 1, 2}
    assert ((values == 0) == ~t["valid"]).all()  # nodata exactly where the composite has none
    qml = mask.with_suffix(".qml").read_text()
    assert "easy" in qml and "hard" in qml and "#2c7bb6" in qml
    # every pixel shows the block whose centre is nearest
    block = 16
    is_easy = np.zeros(n, dtype=bool)
    is_easy[easy] = True
    for y, x in [(12, 20), (20, 20), (23, 24), (24, 24), (47, 47), (30, 5)]:
        d = [(y + 0.5 - (r + block / 2)) ** 2 + (x + 0.5 - (c + block / 2)) ** 2
             if r <= y < r + block and c <= x < c + block else np.inf for r, c in origins]
        owner = int(np.argmin(d))
        assert values[y, x] == (1 if is_easy[owner] else 2), (y, x)

    c = gdal.Open(str(confidence))
    conf = c.GetRasterBand(1).ReadAsArray()
    assert c.GetRasterBand(1).GetNoDataValue() == CONFIDENCE_NODATA
    assert (conf[~t["valid"]] == CONFIDENCE_NODATA).all()
    assert (conf[t["valid"]] >= 0).all() and (conf[t["valid"]] <= 1).all()
    assert "singlebandgray" in confidence.with_suffix(".qml").read_text()
    # the confidence of a pixel owned by block 0 is that block's prediction there
    model, meta = load_model(t["model"])
    with BlockStore(store_path) as store:
        from crops_engine.block_dataset import model_inputs

        x, _ = model_inputs(store, meta, [0])
        r0, c0 = origins[0]
    with torch.no_grad():
        probs = model(torch.from_numpy(x)).logits.softmax(1).numpy()
    entropy = -(probs * np.log(np.clip(probs, 1e-12, 1))).sum(1)[0] / np.log(3)
    assert (r0, c0) == (0, 0)
    assert np.isclose(conf[11, 11], 1 - entropy[11, 11], atol=1e-4)  # block 0 owns rows and columns 0..11


def test_composite_mode_builds_the_store_through_the_cli(random_target, tmp_path, capsys):
    t = random_target
    out = tmp_path / "built.h5"
    code = cli.main(["partition", "--model", str(t["model"]), "--composite", str(t["composite"]),
                     "--output-blocks", str(out), "--stride", "16", "--per-class", "true",
                     "--score", "confident_fraction", "--conf-threshold", "0.5", "--easy-fraction", "0.5",
                     "--device", "cpu", "--output-mask", str(tmp_path / "m.tif")])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    with BlockStore(out) as store:
        assert not store.has_labels and store.block_size == 16 and store.stride == 16
        assert len(store.split("easy")) == result["easy_blocks"] > 0
        assert store.partition_info["per_class"] is True
    assert result["output_blocks"] == str(out) and (tmp_path / "m.tif").exists()


def test_bad_input_is_a_clear_error_and_leaves_nothing(random_target, tmp_path):
    t = random_target
    model, meta = load_model(t["model"])
    wrong = tmp_path / "wrong.safetensors"
    save_checkpoint(wrong, model, {"features": [f"x{i}" for i in range(10)], "classes": meta.classes,
                                   "block_size": 16, "normalisation": meta.normalisation})
    with pytest.raises(CropsError, match="features"):
        partition(wrong, t["store"], tmp_path / "mask.tif", options=PartitionOptions(device="cpu"))
    with pytest.raises(CropsError, match="EASY_FRACTION"):
        partition(t["model"], t["store"], options=PartitionOptions(easy_fraction=1.5))
    with pytest.raises(CropsError, match="GeoTIFF"):
        partition(t["model"], t["store"], tmp_path / "mask.png", options=PartitionOptions(device="cpu"))
    with pytest.raises(CropsError, match="BLOCKS"):
        cli_args = ["partition", "--model", str(t["model"]), "--blocks", str(t["store"]),
                    "--composite", str(t["composite"])]
        args = cli.build_parser().parse_args(cli_args)
        args._module.run(args, Progress())
    assert not list(tmp_path.glob("mask*"))


def test_cancel_leaves_no_map_and_no_partition(random_target, tmp_path):
    t = random_target
    store_path = tmp_path / "target.h5"
    store_path.write_bytes(Path(t["store"]).read_bytes())
    progress = Progress()

    def reporter(event, payload):
        if event == "progress" and "Scoring blocks" in payload.get("text", ""):
            progress.cancel()

    progress = Progress(reporter)
    with pytest.raises(Cancelled):
        partition(t["model"], store_path, tmp_path / "mask.tif", tmp_path / "conf.tif",
                  PartitionOptions(device="cpu", batch_size=4), progress)
    assert not list(tmp_path.glob("*.tif")) and not list(tmp_path.glob("*.qml"))
    with BlockStore(store_path) as store:
        assert store.scores is None and "easy" not in store.splits


# -- acceptance: the split is informative on the sample target -------------------------------------


@pytest.fixture(scope="module")
def pipeline(sample_pipeline):
    return sample_pipeline


def test_easy_blocks_are_more_accurate_than_hard_blocks_on_the_sample_target(pipeline, tmp_path):
    store_path = tmp_path / "target.h5"
    store_path.write_bytes(pipeline["target_store"].read_bytes())
    partition(pipeline["model"], store_path, options=PartitionOptions(device="cpu"))
    model, meta = load_model(pipeline["model"])
    from crops_engine.block_dataset import model_inputs

    with BlockStore(store_path) as target, BlockStore(pipeline["target_labelled"]) as labelled:
        assert not target.has_labels
        where = {tuple(o): i for i, o in enumerate(labelled.origins)}  # labels are used for scoring only
        accuracy = {}
        for name in ("easy", "hard"):
            correct = counted = 0
            for i in target.split(name):
                j = where.get(tuple(target.origins[i]))
                if j is None:
                    continue
                x, _ = model_inputs(target, meta, [i])
                with torch.no_grad():
                    pred = model(torch.from_numpy(x)).logits.argmax(1)[0].numpy()
                ref = labelled.labels(j)
                keep = ref != 255
                correct += int((pred[keep] == ref[keep]).sum())
                counted += int(keep.sum())
            accuracy[name] = correct / counted
    assert accuracy["easy"] > accuracy["hard"] + 0.05, accuracy
