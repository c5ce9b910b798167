"""FCOS pieces: locations, target assignment, the loss, decoding and NMS."""

import numpy as np
from keras import ops

from toolkit.heads.detection import (
    DetectionLoss,
    assign_targets,
    decode_outputs,
    giou_from_distances,
    level_locations,
    non_max_suppression,
)


def test_nms_on_hand_built_boxes():
    boxes = np.array([[[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]]],
                     "float32")
    # Class 0: boxes 0 and 1 overlap (IoU 0.81), box 1 goes; box 3 scores below threshold.
    # Class 1: box 1 alone in its class, kept even though it overlaps box 0.
    scores = np.array([[[0.9, 0.0], [0.8, 0.6], [0.7, 0.0], [0.01, 0.0]]], "float32")
    found = non_max_suppression(boxes, scores, iou_threshold=0.5, score_threshold=0.05,
                                image_size=(40, 40))[0]
    np.testing.assert_allclose(found["scores"], [0.9, 0.7, 0.6])
    assert found["labels"].tolist() == [0, 0, 1]
    np.testing.assert_allclose(found["boxes"], [[0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 10, 10]],
                               atol=1e-4)


def test_nms_keeps_overlaps_below_the_threshold_and_caps_the_count():
    boxes = np.array([[[0, 0, 10, 10], [5, 0, 15, 10]]], "float32")  # IoU 1/3
    scores = np.array([[[0.9], [0.8]]], "float32")
    assert len(non_max_suppression(boxes, scores, iou_threshold=0.5)[0]["scores"]) == 2
    assert len(non_max_suppression(boxes, scores, iou_threshold=0.3)[0]["scores"]) == 1
    assert len(non_max_suppression(boxes, scores, max_detections=1)[0]["scores"]) == 1


def test_level_locations_and_ranges():
    points, strides, ranges = level_locations([(2, 2, 8), (1, 1, 16)], (16, 16))
    assert points.shape == (5, 2) and strides.tolist() == [8, 8, 8, 8, 16]
    assert ranges[0].tolist() == [0, 64] and ranges[-1][0] == 64


def test_targets_go_to_locations_inside_the_box_on_the_right_level():
    levels = [(4, 4, 8), (2, 2, 16)]
    points, strides, ranges = level_locations(levels, (32, 32))
    boxes = np.array([[[0, 0, 16, 16], [0, 0, 0, 0]]], "float32")
    labels = np.array([[1, -1]], "float32")
    positive, class_id, distances, centerness = (
        ops.convert_to_numpy(t) for t in assign_targets(boxes, labels, points, strides, ranges))
    # Stride-8 locations at (4, 4), (12, 4), (4, 12), (12, 12) lie in the box.
    assert np.flatnonzero(positive[0]).tolist() == [0, 1, 4, 5]
    assert (class_id[0][positive[0]] == 1).all()
    np.testing.assert_allclose(distances[0, 0], [0.5, 0.5, 1.5, 1.5])  # in strides
    np.testing.assert_allclose(centerness[0, 0], 1 / 3, rtol=1e-5)


def test_giou_is_one_for_identical_boxes():
    same = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(giou_from_distances(same, same)), [1.0])


def test_loss_is_lower_for_the_right_answer_and_decodes_back():
    levels, size = [(4, 4, 8)], (32, 32)
    loss = DetectionLoss(1, levels, size)
    y_true = np.array([[[4, 4, 20, 20, 0]]], "float32")
    points, strides, _ = level_locations(levels, size)
    # A prediction that puts the box on location 5 (centre 12, 12) with high confidence.
    good = np.full((1, 16, 6), -8.0, "float32")
    good[0, 5, 0] = 8.0
    good[0, 5, 1:5] = np.log(8.0 / 8)
    good[0, 5, 5] = 8.0
    bad = np.zeros((1, 16, 6), "float32")
    assert float(loss(y_true, good)) < float(loss(y_true, bad))
    boxes, scores = decode_outputs(good, levels, size, 1)
    np.testing.assert_allclose(boxes[0, 5], [4, 4, 20, 20], atol=1e-4)
    assert scores[0, 5, 0] > 0.99 and scores[0, 0, 0] < 0.01


def test_loss_config_round_trips():
    loss = DetectionLoss(2, [(4, 4, 8)], (32, 32))
    again = DetectionLoss.from_config(loss.get_config())
    assert again.levels == loss.levels and again.num_classes == 2
