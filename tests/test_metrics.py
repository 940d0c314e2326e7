"""Metrics against hand-computed values, including ignored pixels and absent classes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from crops_engine.errors import CropsError
from crops_engine.metrics import (
    ConfusionAccumulator,
    cohen_kappa,
    confusion_matrix,
    mean_f1,
    mean_iou,
    overall_accuracy,
    per_class_f1,
    per_class_iou,
    summarise,
)

# 4 classes; class 3 appears nowhere; 255 pixels are ignored.
TARGET = np.array([[0, 0, 1, 1], [1, 2, 2, 255], [0, 255, 1, 2]], dtype=np.uint8)
PRED = np.array([[0, 1, 1, 1], [2, 2, 2, 3], [0, 0, 1, 0]], dtype=np.uint8)
# counted pixels (target, pred): (0,0) (0,1) (1,1) (1,1) (1,2) (2,2) (2,2) (0,0) (1,1) (2,0)
EXPECTED_CM = np.array([[2, 1, 0, 0], [0, 3, 1, 0], [1, 0, 2, 0], [0, 0, 0, 0]])


def test_confusion_matrix_counts_and_ignores():
    cm = confusion_matrix(PRED, TARGET, 4)
    np.testing.assert_array_equal(cm, EXPECTED_CM)
    assert cm.dtype == np.int64
    # without ignore, 255 is an invalid class
    with pytest.raises(CropsError, match="255"):
        confusion_matrix(PRED, TARGET, 4, ignore_index=None)


def test_metrics_hand_computed():
    cm = EXPECTED_CM
    assert overall_accuracy(cm) == pytest.approx(7 / 10)
    # IoU: class0 2/(3+3-2)=0.5, class1 3/(4+4-3)=0.6, class2 2/(3+3-2)=0.5, class3 absent -> NaN
    iou = per_class_iou(cm)
    np.testing.assert_allclose(iou[:3], [0.5, 0.6, 0.5])
    assert math.isnan(iou[3])
    assert mean_iou(cm) == pytest.approx((0.5 + 0.6 + 0.5) / 3)
    f1 = per_class_f1(cm)
    np.testing.assert_allclose(f1[:3], [4 / 6, 6 / 8, 4 / 6])
    assert math.isnan(f1[3])
    assert mean_f1(cm) == pytest.approx((4 / 6 + 6 / 8 + 4 / 6) / 3)
    # kappa: expected = (3*3 + 4*4 + 3*3) / 100 = 0.34
    assert cohen_kappa(cm) == pytest.approx((0.7 - 0.34) / (1 - 0.34))


def test_class_predicted_but_absent_from_reference_counts_as_zero():
    cm = confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 0]), 3)
    np.testing.assert_array_equal(cm, [[1, 2, 0], [0, 0, 0], [0, 0, 0]])
    iou = per_class_iou(cm)
    assert iou[0] == pytest.approx(1 / 3) and iou[1] == 0.0 and math.isnan(iou[2])
    assert mean_iou(cm) == pytest.approx((1 / 3 + 0) / 2)


def test_empty_is_nan_not_error():
    cm = confusion_matrix(np.full(5, 255), np.full(5, 255), 2)
    assert cm.sum() == 0
    assert math.isnan(overall_accuracy(cm)) and math.isnan(mean_iou(cm)) and math.isnan(cohen_kappa(cm))


def test_bad_inputs():
    with pytest.raises(CropsError, match="differ in size"):
        confusion_matrix(np.zeros(3), np.zeros(4), 2)
    with pytest.raises(CropsError, match="prediction holds class value 5"):
        confusion_matrix(np.array([5]), np.array([0]), 2)
    with pytest.raises(CropsError, match="reference holds class value -1"):
        confusion_matrix(np.array([0]), np.array([-1]), 2)


def test_summarise_is_json_ready():
    report = summarise(EXPECTED_CM, ["wheat", "maize", "grass", "potato"])
    text = json.dumps(report, allow_nan=False)  # NaN must have become null
    assert json.loads(text)["classes"][3]["iou"] is None
    assert report["pixels"] == 10
    assert report["overall_accuracy"] == pytest.approx(0.7)
    maize = report["classes"][1]
    assert maize["name"] == "maize"
    assert maize["reference_pixels"] == 4 and maize["predicted_pixels"] == 4
    assert maize["precision"] == pytest.approx(0.75) and maize["recall"] == pytest.approx(0.75)
    assert report["confusion_matrix"] == EXPECTED_CM.tolist()
    with pytest.raises(CropsError, match="class names"):
        summarise(EXPECTED_CM, ["a", "b"])


def test_accumulator_streams_like_one_matrix():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 3, size=(6, 8, 8))
    target = rng.integers(0, 3, size=(6, 8, 8))
    target[target == 2] = 255
    acc = ConfusionAccumulator(3)
    for p, t in zip(pred, target, strict=True):
        acc.update(p, t)
    whole = confusion_matrix(pred, target, 3)
    np.testing.assert_array_equal(acc.matrix, whole)
    assert acc.mean_iou == pytest.approx(mean_iou(whole))
    assert acc.overall_accuracy == pytest.approx(overall_accuracy(whole))
    other = ConfusionAccumulator(3)
    other.update(pred[0], target[0])
    acc.merge(other)
    np.testing.assert_array_equal(acc.matrix, whole + confusion_matrix(pred[0], target[0], 3))
    assert acc.summarise(["a", "b", "c"])["pixels"] == int(acc.matrix.sum())
    acc.reset()
    assert acc.matrix.sum() == 0
    with pytest.raises(CropsError):
        acc.merge(ConfusionAccumulator(2))
