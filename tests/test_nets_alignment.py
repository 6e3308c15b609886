"""Crop alignment, not just shape: each score path of each variant, with its weights set so the
net passes an input coordinate ramp straight through, returns that ramp unshifted.

Truth: every layer maps input coordinates x to y = a*x + b (coordinate mapping). Feed two
channels x + K and K - x (K large, so ReLU keeps both). A centred delta kernel samples the
coordinate at the centre of its window; max pooling keeps the largest and smallest coordinate
of its window, whose mean is the window's centre. So 0.5 * (channel 0 - channel 1), taken by the
score layer, is at every cell the input coordinate of that cell's centre, and bilinear
upsampling interpolates it exactly. A correctly cropped score map therefore equals the input
coordinate at every interior pixel; a crop one pixel off shows up as a difference of one pixel
(or 8 or 16 for the pool crops). The nets are narrow twins (4 channels per layer, 2 classes):
widths and classes change channel counts only, never the geometry.
"""
import dataclasses

import numpy as np
import pytest

from caffe_fcn.backend import net_from_proto
from caffe_fcn.nets import build
from caffe_fcn.nets.registry import STAGES, VARIANTS, get_variant

HEIGHT, WIDTH = 576, 640  # large enough that the centre sees no padding (fc7 sees 404 px)
EPS = 1e-3  # input scale: keeps AlexNet's LRN within 3e-5 of the identity
CENTRE = 40  # check a (2*CENTRE)^2 block around the image centre: every phase of stride 32


def twin(variant):
    return dataclasses.replace(
        variant, widths=(4,) * STAGES[variant.trunk],
        outputs=tuple(dataclasses.replace(o, classes=2) for o in variant.outputs))


def bilinear(size):
    """The bilinear kernel of the reference sheet: factor f = (k+1)//2, centre f-1 or f-0.5."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    og = np.arange(size)
    k = 1 - abs(og - centre) / factor
    return np.outer(k, k)


def centred_delta(kernel):
    """1 at the centre tap; an even kernel splits it over its two central taps."""
    taps = [kernel // 2] if kernel % 2 else [kernel // 2 - 1, kernel // 2]
    d = np.zeros(kernel)
    d[taps] = 1.0 / len(taps)
    return np.outer(d, d)


def score_layers(variant, net):
    """The score layers feeding each path, per output: {path: [layer names]}."""
    paths = {}
    for out in variant.outputs:
        paths[('fr', out.tag)] = ['score_fr' + i.name for i in variant.inputs] \
            if variant.fusion == 'late' else ['score_fr' + out.tag]
        for pool in ('pool4', 'pool3'):
            if 'score_%s%s' % (pool, out.tag) in net.params:
                paths[(pool, out.tag)] = ['score_%s%s' % (pool, out.tag)]
    return paths


def set_pass_through(net, live):
    """Delta trunk, bilinear deconvolutions, and score layers reading 0.5*(c0 - c1)/EPS into
    class 0 for the score layers in `live` (compensating the at-once Scale layers); others 0."""
    types = dict(zip(net._layer_names, (layer.type for layer in net.layers)))
    for name, blobs in net.params.items():
        if types[name] == 'Scale':
            continue  # the at-once pool scalings keep their fixed constants
        weights = blobs[0].data
        weights[...] = 0
        for bias in blobs[1:]:
            bias.data[...] = 0
        if types[name] == 'Deconvolution':
            for c in range(weights.shape[0]):
                weights[c, c] = bilinear(weights.shape[2])
        elif name.startswith('score'):
            if name in live:
                scale = 'scale_' + name[len('score_'):]
                gain = net.params[scale][0].data[0] if scale in net.params else 1.0
                weights[0, :2, 0, 0] = np.array([0.5, -0.5]) / EPS / gain
        elif types[name] == 'Convolution':
            outs, ins_per_group = weights.shape[:2]
            groups = net.blobs[net.bottom_names[name][0]].shape[1] // ins_per_group
            for o in range(outs):
                i = o - (o // (outs // groups)) * ins_per_group
                if i < ins_per_group:
                    weights[o, i] = centred_delta(weights.shape[2])


def ramp_errors(variant, proto):
    """{(path, tag): largest |score - coordinate| in the centre block, over both axes}."""
    net = net_from_proto(proto)
    rows, cols = np.mgrid[:HEIGHT, :WIDTH].astype(np.float32)
    K = float(max(HEIGHT, WIDTH))
    errors = {}
    for path, live in score_layers(variant, net).items():
        set_pass_through(net, live)
        worst = 0.0
        for coord in (cols, rows):
            for i in variant.inputs:
                net.blobs[i.name].reshape(1, i.channels, HEIGHT, WIDTH)
                data = net.blobs[i.name].data
                data[...] = 0
                if i.channels == 3:
                    data[0, 0], data[0, 1] = (coord + K) * EPS, (K - coord) * EPS
            net.forward()
            score = net.blobs['score' + path[1]].data[0, 0]
            block = np.s_[HEIGHT // 2 - CENTRE:HEIGHT // 2 + CENTRE,
                          WIDTH // 2 - CENTRE:WIDTH // 2 + CENTRE]
            error = float(np.abs(score[block] - coord[block]).max())
            worst = max(worst, error if np.isfinite(error) else np.inf)
        errors[path] = worst
    return errors


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_every_score_path_returns_the_input_coordinate_unshifted(name):
    variant = twin(get_variant(name))
    errors = ramp_errors(variant, build.net_proto(variant, 'deploy'))
    expected_paths = {'32s': 1, '16s': 2, '8s': 3, '8s-atonce': 3}[variant.head]
    assert len(errors) == expected_paths * len(variant.outputs)
    assert max(errors.values()) < 0.05, errors


@pytest.mark.parametrize('name', ['voc-fcn8s', 'voc-fcn-alexnet', 'voc-fcn-googlenet'])
def test_a_crop_one_pixel_off_is_caught(name):
    variant = twin(get_variant(name))
    proto = build.net_proto(variant, 'deploy')
    crops = [layer for layer in proto.layer if layer.type == 'Crop']
    for crop in crops:
        crop.crop_param.offset[0] += 1
        errors = ramp_errors(variant, proto)
        crop.crop_param.offset[0] -= 1
        assert max(errors.values()) > 0.9, (crop.name, errors)
