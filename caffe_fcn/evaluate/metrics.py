"""The paper's segmentation metrics, all computed from one confusion matrix pooled over a split.

Classes that never occur in the split's ground truth have no defined accuracy or IU: they are
reported in `absent_classes` and left out of every mean (the reference release averaged them in as
IU 0 whenever they were predicted; that is not done here).
"""
import numpy as np

from caffe_fcn.errors import UserError


class ScoreError(UserError, ValueError):
    """Scores that cannot be computed: a split with no labelled pixel, a net whose blobs do not fit."""


def fast_hist(label, prediction, n_classes):
    """Confusion matrix: hist[i, j] counts pixels of ground-truth class i predicted as class j.

    Pixels whose label is outside 0..n_classes-1 (void, 255) are skipped."""
    label = np.asarray(label)
    prediction = np.asarray(prediction)
    if label.shape != prediction.shape:
        raise ScoreError('label has shape %s but prediction has shape %s: score and label blobs must '
                         'cover the same pixels' % (label.shape, prediction.shape))
    scored = (label >= 0) & (label < n_classes)
    truth = label[scored].astype(np.int64)
    guess = prediction[scored].astype(np.int64)
    outside = guess[(guess < 0) | (guess >= n_classes)]
    if outside.size:
        raise ScoreError('prediction holds class %d, outside 0..%d' % (outside[0], n_classes - 1))
    return np.bincount(n_classes * truth + guess, minlength=n_classes ** 2).reshape(n_classes, n_classes)


def segmentation_metrics(hist):
    """Pixel accuracy, mean accuracy, mean IU and frequency-weighted IU of a confusion matrix,
    with per-class IU and accuracy (None for classes absent from the ground truth)."""
    hist = np.asarray(hist, dtype=np.float64)
    total = hist.sum()
    if total == 0:
        raise ScoreError('the confusion matrix is empty: no pixel of the split has a scored label')
    true_positives = np.diag(hist)
    ground_truth = hist.sum(axis=1)
    predicted = hist.sum(axis=0)
    present = ground_truth > 0
    accuracy = true_positives[present] / ground_truth[present]
    iu = true_positives[present] / (ground_truth[present] + predicted[present] - true_positives[present])
    frequency = ground_truth[present] / total
    return {
        'pixel_accuracy': float(true_positives.sum() / total),
        'mean_accuracy': float(accuracy.mean()),
        'mean_iu': float(iu.mean()),
        'frequency_weighted_iu': float((frequency * iu).sum()),
        'per_class_iu': _per_class(present, iu),
        'per_class_accuracy': _per_class(present, accuracy),
        'absent_classes': [int(c) for c in np.flatnonzero(~present)],
    }


def _per_class(present, values):
    out = [None] * len(present)
    for c, v in zip(np.flatnonzero(present), values):
        out[c] = float(v)
    return out
