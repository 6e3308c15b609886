"""PASCAL VOC segmentation (2011 for the paper's seg11valid, 2012, 2010 under PASCAL-Context).

Reads {voc_dir}/ImageSets/Segmentation/{split}.txt, JPEGImages/{id}.jpg and
SegmentationClass/{id}.png (palette indices 0..20, 255 void)."""
import os

from caffe_fcn.data.base import SegDataLayer, check_mean
from caffe_fcn.data.constants import VOC_CLASSES, VOC_MEAN_BGR
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.data.readers import load_rgb, read_split
from caffe_fcn.data.transform import LabelTable, rgb_to_blob


class VOCSegDataLayer(SegDataLayer):
    """Tops: data (3xHxW), label (1xHxW). Params: voc_dir, split, mean, seed."""

    defaults = {'voc_dir': 'data/pascal/VOC2011', 'mean': VOC_MEAN_BGR}
    folders = {'voc_dir': '`make data-voc` (VOC2011; `make data-voc2012` for VOC2012)'}
    labels = LabelTable.identity(VOC_CLASSES)

    def configure(self, params):
        self.voc_dir = self.folder('voc_dir')
        self.mean = check_mean(params['mean'], self.where)

    def top_names(self):
        return ('data', 'label')

    def split_ids(self, split):
        return read_split(os.path.join(self.voc_dir, 'ImageSets', 'Segmentation', split + '.txt'))

    def sample_paths(self, sample_id):
        return (os.path.join(self.voc_dir, 'JPEGImages', sample_id + '.jpg'),
                os.path.join(self.voc_dir, 'SegmentationClass', sample_id + '.png'))

    def load(self, sample_id):
        image_path, label_path = self.sample_paths(sample_id)
        label = self.labels.apply(load_label_png(label_path), label_path)
        return [rgb_to_blob(load_rgb(image_path), self.mean), label[None]]
