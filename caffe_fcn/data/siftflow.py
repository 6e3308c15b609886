"""SIFT Flow (Liu et al. 2009; Tighe & Lazebnik's 2,688-image release): one image, two label maps.

Reads {siftflow_dir}/{split}.txt and, under the folder spatial_envelope_256x256_static_8outdoorcategories
of Images/, SemanticLabels/ and GeoLabels/: {id}.jpg, {id}.mat['S'] (semantic) and {id}.mat['S']
(geometric). Semantic: 0 (void) -> 255, 1..33 -> 0..32. Geometric: -1 and 0 (void) -> 255,
1..3 (sky, horizontal, vertical) -> 0..2."""
import os

from caffe_fcn.data.base import SegDataLayer
from caffe_fcn.data.constants import SIFTFLOW_GEOMETRIC_CLASSES, SIFTFLOW_MEAN_BGR, SIFTFLOW_SEMANTIC_CLASSES
from caffe_fcn.data.readers import load_mat_variable, load_rgb, read_split
from caffe_fcn.data.sources import SIFTFLOW_SCENES as SCENES
from caffe_fcn.data.transform import LabelTable, rgb_to_blob


class SIFTFlowSegDataLayer(SegDataLayer):
    """Tops: data (3xHxW), sem (1xHxW), geo (1xHxW). Params: siftflow_dir, split, seed."""

    defaults = {'siftflow_dir': 'data/sift-flow'}
    folders = {'siftflow_dir': '`make data-siftflow`'}
    semantic = LabelTable.shifted(0, 1, SIFTFLOW_SEMANTIC_CLASSES)
    geometric = LabelTable.shifted(-1, 2, SIFTFLOW_GEOMETRIC_CLASSES)

    def configure(self, params):
        self.siftflow_dir = self.folder('siftflow_dir')

    def top_names(self):
        return ('data', 'sem', 'geo')

    def split_ids(self, split):
        return read_split(os.path.join(self.siftflow_dir, split + '.txt'))

    def sample_paths(self, sample_id):
        return (os.path.join(self.siftflow_dir, 'Images', SCENES, sample_id + '.jpg'),
                os.path.join(self.siftflow_dir, 'SemanticLabels', SCENES, sample_id + '.mat'),
                os.path.join(self.siftflow_dir, 'GeoLabels', SCENES, sample_id + '.mat'))

    def load(self, sample_id):
        image_path, sem_path, geo_path = self.sample_paths(sample_id)
        return [rgb_to_blob(load_rgb(image_path), SIFTFLOW_MEAN_BGR),
                self.semantic.apply(load_mat_variable(sem_path, 'S'), sem_path)[None],
                self.geometric.apply(load_mat_variable(geo_path, 'S'), geo_path)[None]]
