"""A deterministic Python data layer for tests that exercise Caffe itself."""
import ast

import numpy as np

from caffe_fcn.backend import import_caffe

caffe = import_caffe()


class FixedSegData(caffe.Layer):
    """Emits the same random image (1x3xHxW) and label (1x1xHxW, some pixels 255) every forward."""

    def setup(self, bottom, top):
        params = ast.literal_eval(self.param_str)
        rng = np.random.RandomState(params['seed'])
        h, w, classes = params['height'], params['width'], params['classes']
        self.image = rng.randn(1, 3, h, w).astype(np.float32)
        self.label = rng.randint(0, classes, size=(1, 1, h, w)).astype(np.float32)
        self.label[0, 0, 0, :] = 255

    def reshape(self, bottom, top):
        top[0].reshape(*self.image.shape)
        top[1].reshape(*self.label.shape)

    def forward(self, bottom, top):
        top[0].data[...] = self.image
        top[1].data[...] = self.label

    def backward(self, top, propagate_down, bottom):
        pass
