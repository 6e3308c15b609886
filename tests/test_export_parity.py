"""Exported models equal Caffe: for every variant's narrow twin, with random weights everywhere (biases
and deconvolutions included, so no layer is a no-op), the ONNX model run by ONNX Runtime gives Caffe's
own forward of the same net on the same inputs, at several input sizes, odd ones included.

Tolerance: the largest |ONNX Runtime - Caffe| over a score map, divided by that map's range, must stay
under 1e-5. Both engines compute in float32 but sum in other orders (and ORT fuses and reorders
convolutions), which measures about 2e-7 here; a wrong coefficient, scale, offset or rounding shows
up far above 1e-5. The argmax (the label map) must agree on every pixel. Each case prints its worst
difference (pytest -rP shows them). Full-size parity: python -m bench.engines (its parity figures).
"""
import dataclasses

import numpy as np
import pytest

from caffe_fcn.backend import select_device
from test_export_convert import caffe_forward
from caffe_fcn.export.runtime import forward, session
from caffe_fcn.export.variant_model import variant_model
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import VARIANTS

caffe = select_device()

TOLERANCE = 1e-5
SIZES = [(37, 53), (64, 64), (101, 77)]
WIDTHS = {'vgg16': (4, 4, 8, 8, 8, 16), 'alexnet': (4, 4, 8, 8, 8, 16),  # even: AlexNet's two groups
          'googlenet': (4, 8, 8, 16, 16)}  # conv1, conv2, inception 3, 4, 5


def randomize(net, seed):
    """He-normal weights and N(0, 0.5) biases for every learned or fixed layer; Scale layers keep their
    constant (the at-once nets' 0.01 and 1e-4)."""
    rng = np.random.default_rng(seed)
    for name, layer in zip(net._layer_names, net.layers):
        if layer.type == 'Scale':
            continue
        for i in range(len(layer.blobs)):
            blob = layer.blobs[i]
            if blob.data.ndim > 1:
                fan_in = blob.count // blob.shape[0]
                blob.data[...] = rng.standard_normal(blob.data.shape) * np.sqrt(2.0 / fan_in)
            else:
                blob.data[...] = rng.standard_normal(blob.data.shape) * 0.5


def random_twin(tmp_path, name, seed=0):
    """(NetFiles, weights path) of the variant's narrow twin with random weights."""
    twin = dataclasses.replace(VARIANTS[name], widths=WIDTHS[VARIANTS[name].trunk])
    nets = NetFiles.written(twin, str(tmp_path / 'nets'))
    net = caffe.Net(nets.proto('deploy'), caffe.TEST)
    randomize(net, seed)
    weights = str(tmp_path / 'twin.caffemodel')
    net.save(weights)
    return nets, weights


def worst_relative_difference(ours, reference):
    return float(np.abs(ours - reference).max() / (reference.max() - reference.min()))


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_onnx_runtime_scores_equal_caffe_forward_at_odd_and_even_sizes(tmp_path, name):
    nets, weights = random_twin(tmp_path, name)
    sess = session(variant_model(nets, weights))
    net = nets.deploy_net(weights)
    rng = np.random.default_rng(1)
    for height, width in SIZES:
        inputs = {i.name: rng.standard_normal((1, i.channels, height, width), dtype=np.float32) * 50
                  for i in nets.variant.inputs}
        expected = caffe_forward(net, inputs)
        got = forward(sess, inputs)
        assert sorted(got) == sorted(expected) == sorted(o.score for o in nets.variant.outputs)
        for blob, reference in expected.items():
            assert got[blob].shape == reference.shape == (1, reference.shape[1], height, width)
            worst = worst_relative_difference(got[blob], reference)
            agree = int((got[blob].argmax(axis=1) == reference.argmax(axis=1)).sum())
            print('%s %dx%d %s: worst |ORT - Caffe| %.2e of the score range (tolerance %.0e); argmax agrees '
                  'on %d of %d pixels' % (name, height, width, blob, worst, TOLERANCE, agree, height * width))
            assert worst < TOLERANCE
            assert agree == height * width
