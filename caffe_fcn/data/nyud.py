"""NYUDv2 (Silberman et al. 2012) with Gupta et al.'s 40 classes, in the FCN release's layout.

Reads {nyud_dir}/{split}.txt (trainval = train.txt then val.txt) and, per id, only the files its
tops need: data/images/img_{id}.png (color), data/hha/img_{id}.png (HHA), data/depth/img_{id}.png
(16-bit depth) and segmentation/img_{id}.mat['segmentation'] (0 void, 1..40 classes).

- color: RGB -> BGR minus the color mean.
- hha: the three HHA channels in file order (they are not colours: no flip) minus the HHA mean.
- depth: natural log of the stored depth minus the mean log depth. Stored zeros mark pixels with no
  depth reading; their log would be -inf, so they are given the mean log depth: after the mean is
  subtracted they read exactly 0, the value that carries no signal.
- label: 0 (void) -> 255, 1..40 -> 0..39.
"""
import os

import numpy as np

from caffe_fcn.data.base import REQUIRED, SegDataLayer
from caffe_fcn.data.constants import NYUD_CLASSES, NYUD_COLOR_MEAN_BGR, NYUD_HHA_MEAN, NYUD_LOG_DEPTH_MEAN
from caffe_fcn.data.readers import (DataError, load_mat_variable, load_rgb, load_single_channel,
                                    load_three_channel, read_split)
from caffe_fcn.data.transform import LabelTable, rgb_to_blob

#: Splits made of others (the release ships train, val and test lists).
SPLIT_PARTS = {'trainval': ('train', 'val')}
KINDS = ('color', 'hha', 'depth', 'label')


def hha_to_blob(hha):
    """HxWx3 HHA -> 3xHxW float32 minus the HHA mean, channels in file order."""
    return (np.asarray(hha, dtype=np.float32) - np.array(NYUD_HHA_MEAN, dtype=np.float32)).transpose(2, 0, 1).copy()


def depth_to_blob(depth):
    """HxW stored depth -> 1xHxW float32 log depth minus its mean; missing (0) depth reads 0."""
    depth = np.asarray(depth, dtype=np.float64)
    log_depth = np.full(depth.shape, NYUD_LOG_DEPTH_MEAN)
    present = depth > 0
    log_depth[present] = np.log(depth[present])
    return (log_depth - NYUD_LOG_DEPTH_MEAN).astype(np.float32)[None]


class NYUDSegDataLayer(SegDataLayer):
    """Tops as listed in param `tops` (from color, hha, depth, label). Params: nyud_dir, split, tops, seed."""

    defaults = {'nyud_dir': 'data/nyud', 'tops': REQUIRED}
    folders = {'nyud_dir': '`make data-nyud`'}
    labels = LabelTable.shifted(0, 1, NYUD_CLASSES)

    def configure(self, params):
        tops = params['tops']
        if (not isinstance(tops, (list, tuple)) or not tops or len(set(tops)) != len(tops)
                or not all(t in KINDS for t in tops)):
            raise DataError('%s: tops must be a list of distinct names from %s, got %r'
                            % (self.where, ', '.join(KINDS), tops))
        self.tops = tuple(tops)
        self.nyud_dir = self.folder('nyud_dir')

    def top_names(self):
        return self.tops

    def split_ids(self, split):
        return [i for part in SPLIT_PARTS.get(split, (split,))
                for i in read_split(os.path.join(self.nyud_dir, part + '.txt'))]

    def path(self, kind, sample_id):
        if kind == 'label':
            return os.path.join(self.nyud_dir, 'segmentation', 'img_%s.mat' % sample_id)
        folder = {'color': 'images', 'hha': 'hha', 'depth': 'depth'}[kind]
        return os.path.join(self.nyud_dir, 'data', folder, 'img_%s.png' % sample_id)

    def sample_paths(self, sample_id):
        return tuple(self.path(kind, sample_id) for kind in self.tops)

    def load(self, sample_id):
        return [self.load_kind(kind, self.path(kind, sample_id)) for kind in self.tops]

    def load_kind(self, kind, path):
        if kind == 'color':
            return rgb_to_blob(load_rgb(path), NYUD_COLOR_MEAN_BGR)
        if kind == 'hha':
            return hha_to_blob(load_three_channel(path))
        if kind == 'depth':
            return depth_to_blob(load_single_channel(path))
        return self.labels.apply(load_mat_variable(path, 'segmentation'), path)[None]
