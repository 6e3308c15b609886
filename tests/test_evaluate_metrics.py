"""caffe_fcn.evaluate.metrics against hand-counted confusion matrices and an independent mask-based IoU."""
import numpy as np
import pytest

from caffe_fcn.evaluate.metrics import fast_hist, segmentation_metrics

# Ground truth and prediction of a 2x3 image with 3 classes; the last pixel is void (255).
LABEL = np.array([[0, 0, 1], [1, 2, 255]])
PREDICTION = np.array([[0, 1, 1], [1, 0, 2]])
# Counted by hand: rows are ground truth, columns predictions, the void pixel is not counted.
HAND_HIST = np.array([[1, 1, 0],
                      [0, 2, 0],
                      [1, 0, 0]])


def test_fast_hist_equals_hand_counted_matrix_and_skips_void():
    np.testing.assert_array_equal(fast_hist(LABEL, PREDICTION, 3), HAND_HIST)


def test_fast_hist_pools_images_by_addition():
    pooled = fast_hist(LABEL, PREDICTION, 3) + fast_hist(LABEL[:, ::-1], PREDICTION[:, ::-1], 3)
    np.testing.assert_array_equal(pooled, 2 * HAND_HIST)


def test_metrics_of_hand_counted_matrix_equal_hand_computed_values():
    m = segmentation_metrics(HAND_HIST)
    assert m['pixel_accuracy'] == pytest.approx(3 / 5)
    assert m['mean_accuracy'] == pytest.approx((1 / 2 + 2 / 2 + 0 / 1) / 3)
    # IU = tp / (gt + predicted - tp): 1/(2+2-1), 2/(2+3-2), 0/(1+0-0)
    assert m['per_class_iu'] == pytest.approx([1 / 3, 2 / 3, 0])
    assert m['mean_iu'] == pytest.approx(1 / 3)
    assert m['frequency_weighted_iu'] == pytest.approx(2 / 5 * 1 / 3 + 2 / 5 * 2 / 3 + 1 / 5 * 0)
    assert m['per_class_accuracy'] == pytest.approx([1 / 2, 1, 0])
    assert m['absent_classes'] == []


def test_class_predicted_but_absent_from_ground_truth_is_reported_and_excluded_from_means():
    # 4 classes; class 3 is predicted once but never in the ground truth, class 2 appears nowhere.
    label = np.array([0, 0, 1, 1])
    prediction = np.array([0, 3, 1, 1])
    hist = fast_hist(label, prediction, 4)
    np.testing.assert_array_equal(hist, [[1, 0, 0, 1], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    m = segmentation_metrics(hist)
    assert m['absent_classes'] == [2, 3]
    assert m['per_class_iu'] == [pytest.approx(1 / 2), pytest.approx(1.0), None, None]
    assert m['per_class_accuracy'] == [pytest.approx(1 / 2), pytest.approx(1.0), None, None]
    # Means over the two present classes only (counting class 3 as IU 0 would give 0.5).
    assert m['mean_iu'] == pytest.approx(0.75)
    assert m['mean_accuracy'] == pytest.approx(0.75)
    assert m['pixel_accuracy'] == pytest.approx(3 / 4)
    assert m['frequency_weighted_iu'] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)


def test_metrics_equal_independent_boolean_mask_iou_on_random_maps():
    rng = np.random.RandomState(3)
    n_classes = 6
    labels = [rng.randint(0, n_classes, size=(17, 23)) for _ in range(4)]
    for label in labels:
        label[rng.rand(*label.shape) < 0.1] = 255
    predictions = [rng.randint(0, n_classes, size=label.shape) for label in labels]
    hist = sum(fast_hist(l, p, n_classes) for l, p in zip(labels, predictions))
    m = segmentation_metrics(hist)

    label = np.concatenate([l.ravel() for l in labels])
    prediction = np.concatenate([p.ravel() for p in predictions])
    scored = label != 255
    ious, accs = [], []
    for c in range(n_classes):
        truth, guess = (label == c) & scored, (prediction == c) & scored
        ious.append((truth & guess).sum() / (truth | guess).sum())
        accs.append((truth & guess).sum() / truth.sum())
    assert m['per_class_iu'] == pytest.approx(ious)
    assert m['mean_iu'] == pytest.approx(np.mean(ious))
    assert m['mean_accuracy'] == pytest.approx(np.mean(accs))
    assert m['pixel_accuracy'] == pytest.approx((label == prediction)[scored].mean())
    freq = np.array([(label == c).sum() for c in range(n_classes)]) / scored.sum()
    assert m['frequency_weighted_iu'] == pytest.approx((freq * np.array(ious)).sum())


def test_shape_mismatch_and_out_of_range_prediction_are_clear_errors():
    with pytest.raises(ValueError, match='same pixels'):
        fast_hist(np.zeros((2, 3)), np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match='class 5, outside 0..2'):
        fast_hist(np.zeros(3), np.array([0, 5, 1]), 3)


def test_all_void_split_is_a_clear_error():
    with pytest.raises(ValueError, match='no pixel'):
        segmentation_metrics(fast_hist(np.full(4, 255), np.zeros(4), 3))
