"""PASCAL-Context (Mottaghi et al. 2014), the 59-class task: VOC2010 images, whole-scene labels.

Reads the ids from {voc_dir}/ImageSets/Main/{split}.txt, images from {voc_dir}/JPEGImages/{id}.jpg
and labels from {context_dir}/trainval/{id}.mat['LabelMap'], whose values index the full label list
{context_dir}/classes-400.txt ("index: name", 459 names). The 59 classes of
{context_dir}/classes-59.txt ("0: background" then "k: name") get labels 1..59; every other value
becomes 0, background, which is scored (60 outputs, no void)."""
import os
import re

import numpy as np

from caffe_fcn.data.base import SegDataLayer
from caffe_fcn.data.constants import CONTEXT_CLASSES, VOC_MEAN_BGR
from caffe_fcn.data.readers import DataError, load_mat_variable, load_rgb, read_split
from caffe_fcn.data.transform import LabelTable, rgb_to_blob

#: Names of the 59-class list that the full list spells differently.
FULL_LIST_SPELLING = {'diningtable': 'table', 'bedcloth': 'bedclothes', 'clothes': 'cloth'}


def read_class_list(path):
    """{index: name} from a file of "index: name" lines."""
    if not os.path.isfile(path):
        raise DataError('class list %s does not exist (it ships in data/pascal-context/ of the '
                        'repository)' % path)
    classes = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            match = re.fullmatch(r'\s*(\d+)\s*:\s*(.+?)\s*', line)
            if not match:
                raise DataError('%s line %d is not "index: name": %r' % (path, number, line))
            classes[int(match.group(1))] = match.group(2)
    return classes


def context_label_table(full_list_path, task_list_path):
    """The LabelTable from stored full-list indices to the 59-class task's labels 0..59."""
    full = read_class_list(full_list_path)
    task = read_class_list(task_list_path)
    if sorted(task) != list(range(CONTEXT_CLASSES)):
        raise DataError('%s must number its classes 0..%d, got %d entries'
                        % (task_list_path, CONTEXT_CLASSES - 1, len(task)))
    index_of = {name: index for index, name in full.items()}
    table = np.zeros(max(full) + 1, dtype=np.int16)
    for label in range(1, CONTEXT_CLASSES):
        name = FULL_LIST_SPELLING.get(task[label], task[label])
        if name not in index_of:
            raise DataError('class %r of %s is not in the full list %s'
                            % (task[label], task_list_path, full_list_path))
        table[index_of[name]] = label
    return LabelTable(0, table, '0..%d (indices of %s)' % (max(full), full_list_path))


class PASCALContextSegDataLayer(SegDataLayer):
    """Tops: data (3xHxW), label (1xHxW). Params: context_dir, voc_dir, split, seed."""

    defaults = {'context_dir': 'data/pascal-context', 'voc_dir': 'data/pascal/VOC2010'}
    folders = {'context_dir': '`make data-context`', 'voc_dir': '`make data-context` (it fetches VOC2010 too)'}

    def configure(self, params):
        self.context_dir = self.folder('context_dir')
        self.voc_dir = self.folder('voc_dir')
        self.labels = context_label_table(os.path.join(self.context_dir, 'classes-400.txt'),
                                          os.path.join(self.context_dir, 'classes-59.txt'))

    def top_names(self):
        return ('data', 'label')

    def split_ids(self, split):
        return read_split(os.path.join(self.voc_dir, 'ImageSets', 'Main', split + '.txt'))

    def sample_paths(self, sample_id):
        return (os.path.join(self.voc_dir, 'JPEGImages', sample_id + '.jpg'),
                os.path.join(self.context_dir, 'trainval', sample_id + '.mat'))

    def load(self, sample_id):
        image_path, label_path = self.sample_paths(sample_id)
        label = self.labels.apply(load_mat_variable(label_path, 'LabelMap'), label_path)
        return [rgb_to_blob(load_rgb(image_path), VOC_MEAN_BGR), label[None]]
