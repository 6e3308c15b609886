"""From stored arrays to what the nets eat: mean-subtracted BGR float32 CHW images, and label
maps checked and remapped to the nets' indices (255 = void) through one lookup table each."""
import numpy as np

from caffe_fcn.data.readers import DataError

VOID = 255


def rgb_to_blob(rgb, mean_bgr):
    """HxWx3 RGB -> 3xHxW float32 BGR minus the mean (given in BGR order, as Caffe's
    ILSVRC-trained nets expect)."""
    bgr = np.asarray(rgb, dtype=np.float32)[:, :, ::-1]
    return (bgr - np.asarray(mean_bgr, dtype=np.float32)).transpose(2, 0, 1).copy()


class LabelTable:
    """Maps every raw value a dataset stores to a net label; any other value is an error.

    `first` is the smallest raw value; `table[v - first]` is the label for raw value v, or -1 where
    v is not a valid stored value."""

    def __init__(self, first, table, description):
        self.first = first
        self.table = np.asarray(table, dtype=np.int16)
        self.description = description

    @classmethod
    def identity(cls, classes):
        """Stored values are the labels: 0..classes-1, and 255 for void (VOC, SBD)."""
        table = np.full(VOID + 1, -1, dtype=np.int16)
        table[:classes] = np.arange(classes)
        table[VOID] = VOID
        return cls(0, table, '0..%d or 255 (void)' % (classes - 1))

    @classmethod
    def shifted(cls, first, voids, classes):
        """Stored values `voids` become 255; first+len(voids) .. +classes-1 become 0..classes-1
        (NYUD: 0 void, 1..40 -> 0..39; SIFT Flow geometric: -1 and 0 void, 1..3 -> 0..2)."""
        table = [VOID] * voids + list(range(classes))
        last = first + len(table) - 1
        return cls(first, table, '%d..%d' % (first, last))

    def apply(self, raw, path):
        """The uint8 net labels for the stored array `raw` read from `path`."""
        raw = np.asarray(raw)
        if raw.ndim != 2:
            raise DataError('label in %s must be 2-D (H x W), got shape %s' % (path, raw.shape))
        if raw.dtype.kind == 'f':
            if not np.all(np.isfinite(raw)) or not np.all(raw == np.round(raw)):
                raise DataError('label in %s holds non-integer values' % path)
        elif raw.dtype.kind not in 'iub':
            raise DataError('label in %s has dtype %s, not integer class indices' % (path, raw.dtype))
        index = raw.astype(np.int64) - self.first
        inside = (index >= 0) & (index < len(self.table))
        labels = np.full(raw.shape, -1, dtype=np.int16)
        labels[inside] = self.table[index[inside]]
        bad = labels < 0
        if bad.any():
            values = np.unique(raw[bad])
            raise DataError('label in %s holds value(s) %s outside the valid stored values %s '
                            '(%d pixels)' % (path, ', '.join('%g' % v for v in values[:10]),
                                             self.description, int(bad.sum())))
        return labels.astype(np.uint8)
