"""The nets the benchmarks run: registry variants (or their narrow twins for --quick smoke
passes), written to prototxt, sized, and filled with random weights."""
import dataclasses
import os

import numpy as np

from caffe_fcn import atomic
from caffe_fcn.backend import select_device
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.registry import get_variant

#: Narrow trunk widths for --quick: the same geometry at a tiny fraction of the cost.
QUICK_WIDTHS = {'vgg16': (4, 8, 8, 16, 16, 32), 'alexnet': (4, 8, 8, 8, 8, 32), 'googlenet': (4, 8, 8, 16, 16)}


def bench_variant(name, quick=False):
    """Registered variant `name`, or its narrow twin when `quick`."""
    variant = get_variant(name)
    return dataclasses.replace(variant, widths=QUICK_WIDTHS[variant.trunk]) if quick else variant


def write_net(variant, net_name, path):
    """Write net `net_name` of `variant` to `path` (which must not exist) and return `path`."""
    if os.path.exists(path):
        raise FileExistsError('%s already exists; benchmarks write their nets into fresh folders' % path)
    return atomic.write_text(path, str(net_proto(variant, net_name)))


def set_input_size(net, height, width):
    """Reshape every Input top of `net` to height x width (keeping batch and channels)."""
    for name, layer in zip(net._layer_names, net.layers):
        if layer.type == 'Input':
            for top in net.top_names[name]:
                blob = net.blobs[top]
                blob.reshape(blob.shape[0], blob.shape[1], height, width)
    net.reshape()


def randomize(net, seed=0):
    """Random weights: every blob of two or more axes drawn from N(0, 2 / fan-in), so activations
    keep their scale through the trunk; 1-D blobs (biases, fixed scales) keep Caffe's fill."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for i in range(len(layer.blobs)):  # pycaffe's blob vectors index but do not iterate
            blob = layer.blobs[i]
            if len(blob.shape) > 1:
                fan_in = blob.count // blob.shape[0]
                blob.data[...] = rng.standard_normal(blob.data.shape, dtype=np.float32) * np.sqrt(2.0 / fan_in)


def fill_inputs(net, seed=0):
    """Random values in every Input top (what a forward of random weights needs)."""
    rng = np.random.default_rng(seed)
    for name, layer in zip(net._layer_names, net.layers):
        if layer.type == 'Input':
            for top in net.top_names[name]:
                net.blobs[top].data[...] = rng.standard_normal(net.blobs[top].data.shape, dtype=np.float32)


def load_net(path):
    """caffe.Net of prototxt `path` in the TEST phase on CPU (weights: caffe_fcn.backend.weights)."""
    caffe = select_device()
    return caffe.Net(path, caffe.TEST)
