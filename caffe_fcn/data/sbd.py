"""Semantic Boundaries Dataset (Hariharan et al. 2011): the extra VOC2011 annotations FCN trains on.

Reads {sbd_dir}/{split}.txt, img/{id}.jpg and cls/{id}.mat, whose struct GTcls holds the label
map in GTcls.Segmentation (class indices 0..20; SBD marks no void pixels)."""
import os

from caffe_fcn.data.base import SegDataLayer, check_mean
from caffe_fcn.data.readers import load_mat_struct_field, load_rgb, read_split
from caffe_fcn.data.transform import LabelTable, rgb_to_blob
from caffe_fcn.data.constants import VOC_CLASSES, VOC_MEAN_BGR


class SBDSegDataLayer(SegDataLayer):
    """Tops: data (3xHxW), label (1xHxW). Params: sbd_dir, split, mean, seed."""

    defaults = {'sbd_dir': 'data/sbd/dataset', 'mean': VOC_MEAN_BGR}
    folders = {'sbd_dir': '`make data-sbd`'}
    labels = LabelTable.identity(VOC_CLASSES)

    def configure(self, params):
        self.sbd_dir = self.folder('sbd_dir')
        self.mean = check_mean(params['mean'], self.where)

    def top_names(self):
        return ('data', 'label')

    def split_ids(self, split):
        return read_split(os.path.join(self.sbd_dir, split + '.txt'))

    def sample_paths(self, sample_id):
        return (os.path.join(self.sbd_dir, 'img', sample_id + '.jpg'),
                os.path.join(self.sbd_dir, 'cls', sample_id + '.mat'))

    def load(self, sample_id):
        image_path, label_path = self.sample_paths(sample_id)
        raw = load_mat_struct_field(label_path, 'GTcls', 'Segmentation')
        return [rgb_to_blob(load_rgb(image_path), self.mean), self.labels.apply(raw, label_path)[None]]
