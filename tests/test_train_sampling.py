"""Loss sampling (CVPR Figure 5): final-layer cells mapped to label pixels by the coordinate maps,
dropped independently with probability 1 - p, iter_size raised by 1/p; p = 1 changes nothing."""
import dataclasses
import os
from fractions import Fraction

import numpy as np
import pytest

import train_fixtures
from caffe_fcn.backend import net_from_proto, select_device
from caffe_fcn.nets import build
from caffe_fcn.nets.coord_map import CoordMap
from nets_support import with_input_layers
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.train import metrics_log
from caffe_fcn.train.sampling import (LAYER_NAME, SamplingError, cell_of, check_probability,
                                      sampled)
from caffe_fcn.train.solve import solver_for_run, train

caffe = select_device()


def test_final_layer_map_is_the_inverse_of_the_reference_crops():
    """upscore (y = 32x + 31.5 for the 64-pixel kernel, 32x + 31 for AlexNet's 63) followed by the
    reference's crop offset (19, 18) must give the input grid back: 32y + 31.5 - 19 = x, so
    score_fr sees x at (x - 12.5) / 32; for AlexNet 32y + 31 - 18 = x, (x - 13) / 32."""
    assert build.coarse_map(get_variant('voc-fcn32s')) == CoordMap(Fraction(1, 32), Fraction(-25, 64))
    assert build.coarse_map(get_variant('voc-fcn8s')) == CoordMap(Fraction(1, 32), Fraction(-25, 64))
    assert build.coarse_map(get_variant('voc-fcn-alexnet')) == CoordMap(Fraction(1, 32), Fraction(-13, 32))


def test_vgg16_cells_are_the_32_pixel_blocks_computed_by_hand():
    """Cell of x: floor((x - 12.5)/32 + 1/2) = floor((x + 3.5)/32): 0..28 -> 0, 29..60 -> 1, ..."""
    cells = cell_of(100, Fraction(1, 32), Fraction(-25, 64))
    expected = [0] * 29 + [1] * 32 + [2] * 32 + [3] * 7
    assert cells.tolist() == expected


def sampling_net(height, width, p, scale, shift, seed=7, tops=1):
    n = caffe.NetSpec()
    labels = []
    for i in range(tops):
        n['label%d' % i] = caffe.layers.Input(shape=dict(dim=[1, 1, height, width]))
        labels.append(n['label%d' % i])
    outs = caffe.layers.Python(*labels, module='caffe_fcn.train.sampling', layer='LossSampling',
                               ntop=tops, param_str=repr(dict(p=p, scale=str(scale),
                                                              shift=str(shift), seed=seed)))
    for i, top in enumerate([outs] if tops == 1 else outs):
        n['sampled%d' % i] = top
    return net_from_proto(n.to_proto())


def test_dropped_cells_void_their_blocks_exactly_as_the_seeded_draw_says():
    """scale 1/4, shift 0: cell of x is floor(x/4 + 1/2), so rows and columns 0-1, 2-5, 6-7 form
    3 x 3 cells. The layer draws one uniform number per cell from RandomState(seed) in row-major
    order and keeps the cell when it is below p."""
    net = sampling_net(8, 8, 0.5, Fraction(1, 4), 0, seed=7)
    label = (np.arange(64).reshape(8, 8) % 21).astype(np.float32)
    label[0, 0] = 255
    net.blobs['label0'].data[0, 0] = label
    net.forward()
    keep = np.random.RandomState(7).random_sample((3, 3)) < 0.5
    blocks = [slice(0, 2), slice(2, 6), slice(6, 8)]
    expected = np.full((8, 8), 255.0)
    for r, rows in enumerate(blocks):
        for c, cols in enumerate(blocks):
            if keep[r, c]:
                expected[rows, cols] = label[rows, cols]
    assert 0 < keep.sum() < 9  # the seed drops some cells and keeps others
    np.testing.assert_array_equal(net.blobs['sampled0'].data[0, 0], expected)


def test_the_fraction_of_dropped_cells_is_one_minus_p_and_every_head_shares_the_draw():
    """scale 1/8: cell k holds pixels 8k-4 .. 8k+3. Of its 248 x 248 whole cells at p = 0.25,
    the dropped fraction is 0.75 within 5 standard deviations (sqrt(0.75 * 0.25 / 61504) =
    0.0017); pixels void before stay void."""
    net = sampling_net(1990, 1990, 0.25, Fraction(1, 8), 0, tops=2)
    net.blobs['label0'].data[...] = 3
    net.blobs['label1'].data[...] = 1
    net.blobs['label1'].data[0, 0, :10] = 255
    net.forward()
    first, second = net.blobs['sampled0'].data[0, 0], net.blobs['sampled1'].data[0, 0]
    cells = first[8:1985:8, 8:1985:8]  # one pixel of each whole cell
    assert cells.size == 248 * 248
    assert abs((cells == 255).mean() - 0.75) < 5 * np.sqrt(0.75 * 0.25 / cells.size)
    np.testing.assert_array_equal(second == 255, (first == 255) | (np.arange(1990) < 10)[:, None])


def twin_protos(p):
    """(plain, sampled) training nets of a narrow FCN-32s twin with Input layers, 70 x 90."""
    variant = dataclasses.replace(get_variant('voc-fcn32s'), widths=(4, 4, 8, 8, 8, 16))
    plain = with_input_layers(variant, build.net_proto(variant, 'train'), 70, 90)
    return plain, sampled(plain, variant.outputs, p, build.coarse_map(variant), seed=3)


def forward_backward(proto, weights, label):
    net = net_from_proto(proto)  # TEST phase: dropout passes everything, both nets see the same
    for name, blobs in net.params.items():
        for blob, value in zip(blobs, weights[name]):
            blob.data[...] = value
    net.blobs['data'].data[...] = np.random.RandomState(0).randn(*net.blobs['data'].shape) * 50
    net.blobs['label'].data[0, 0] = label
    net.forward()
    net.backward()
    return float(net.blobs['loss'].data), {name: [b.diff.copy() for b in blobs]
                                           for name, blobs in net.params.items()}


def random_weights(proto):
    net = net_from_proto(proto)
    rng = np.random.RandomState(1)
    return {name: [rng.randn(*b.data.shape) * 0.1 for b in blobs] for name, blobs in net.params.items()}


def labels(height=70, width=90):
    return np.random.RandomState(2).randint(0, 21, (height, width)).astype(np.float32)


def test_p_one_equals_no_sampling_exactly():
    plain, with_layer = twin_protos(1.0)
    assert LAYER_NAME in [layer.name for layer in with_layer.layer]
    weights = random_weights(plain)
    loss, grads = forward_backward(plain, weights, labels())
    loss_1, grads_1 = forward_backward(with_layer, weights, labels())
    assert loss_1 == loss
    for name in grads:
        for a, b in zip(grads[name], grads_1[name]):
            np.testing.assert_array_equal(a, b)


def test_sampled_loss_is_the_loss_of_the_label_with_the_dropped_blocks_voided():
    """The same net, weights and image: the sampled net's loss and gradients equal the plain
    net's on a label voided by hand at the blocks of the cells the seeded draw drops."""
    plain, half = twin_protos(0.5)
    weights = random_weights(plain)
    cells_r = cell_of(70, Fraction(1, 32), Fraction(-25, 64))
    cells_c = cell_of(90, Fraction(1, 32), Fraction(-25, 64))
    keep = np.random.RandomState(3).random_sample((1, cells_r.max() + 1, cells_c.max() + 1)) < 0.5
    by_hand = labels().copy()
    by_hand[~keep[0][cells_r][:, cells_c]] = 255
    assert 0 < (by_hand == 255).mean() < 1
    loss, grads = forward_backward(plain, weights, by_hand)
    loss_half, grads_half = forward_backward(half, weights, labels())
    assert loss_half == pytest.approx(loss, rel=1e-6)
    for name in grads:
        for a, b in zip(grads[name], grads_half[name]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('p, iter_size, raised', [(1, 1, 1), (0.5, 1, 2), (0.25, 1, 4), (0.25, 20, 80)])
def test_iter_size_is_raised_by_one_over_p(p, iter_size, raised):
    assert check_probability(p, iter_size) == raised


@pytest.mark.parametrize('p, message', [(0, r'in \(0, 1\]'), (1.5, r'in \(0, 1\]'),
                                        (0.3, 'not a whole number')])
def test_bad_probabilities_are_refused(p, message):
    with pytest.raises(SamplingError, match='loss sampling: .*' + message):
        check_probability(p, 1)


def test_a_sampled_run_raises_iter_size_and_records_p_in_its_log(tmp_path):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(tmp_path / 'trunk.caffemodel')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=1, steps=1)
    nets = NetFiles.written(variant, str(tmp_path / 'nets'))
    with pytest.raises(SamplingError, match='not a whole number'):
        train(variant, nets, str(tmp_path / 'refused'), weights=[trunk], loss_sampling=0.3)
    assert not os.path.exists(tmp_path / 'refused')
    train(variant, nets, str(tmp_path / 'run'), weights=[trunk], loss_sampling=0.25, say=lambda line: None)
    start = metrics_log.read(str(tmp_path / 'run' / 'metrics.jsonl'))[0]
    assert start['loss_sampling'] == 0.25 and 'iter_size: 4' in start['solver']
    solver, settings = solver_for_run(caffe, nets, variant.name, variant.outputs, 0.5)
    assert settings.iter_size == 2
    assert LAYER_NAME in list(solver.net._layer_names)
