"""Every net of every variant in real Caffe: it instantiates, its loss is configured as the
paper's, its score map has the input's size for any input, and its parameter count is FCN's."""
import math

import numpy as np
import pytest

from caffe_fcn.backend import net_from_proto
from caffe_fcn.nets import build
from caffe_fcn.nets.registry import VARIANTS, get_variant
from nets_support import with_input_layers

# Input sizes (height, width) for the score-shape sweep: tiny, odd, prime, non-square, large.
SIZES = [(1, 1), (1, 500), (7, 13), (31, 32), (33, 65), (64, 64), (101, 3), (187, 333),
         (224, 224), (256, 256), (425, 560), (500, 500), (511, 384)]


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_training_net_runs_and_its_zero_init_loss_is_log_classes_per_labelled_pixel(name):
    """All weights start at zero (no fillers), so every pixel's softmax is uniform over C
    classes and costs ln C. Void pixels (255) cost nothing. VGG nets sum over pixels; AlexNet
    averages over the labelled ones."""
    v = get_variant(name)
    height, width = 24, 20
    net = net_from_proto(with_input_layers(v, build.net_proto(v, v.train_split), height, width))
    for out in v.outputs:
        net.blobs[out.label].data[...] = 0
        net.blobs[out.label].data[0, 0, :3] = 255
    net.forward()
    labelled = (height - 3) * width
    for out in v.outputs:
        assert net.blobs[out.score].data.shape == (1, out.classes, height, width)
        per_pixel = math.log(out.classes)
        expected = per_pixel if v.normalize_loss else per_pixel * labelled
        assert float(net.blobs[out.loss].data) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_testing_net_instantiates(name):
    v = get_variant(name)
    net = net_from_proto(with_input_layers(v, build.net_proto(v, v.test_split), 8, 8))
    assert [o.loss for o in v.outputs] == [b for b in net.outputs]


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_deploy_score_has_the_input_size_for_any_input_size(name):
    v = get_variant(name)
    net = net_from_proto(build.net_proto(v, 'deploy'))
    assert list(net.inputs) == [i.name for i in v.inputs]
    assert sorted(net.outputs) == sorted(o.score for o in v.outputs)
    for height, width in SIZES:
        for i in v.inputs:
            net.blobs[i.name].reshape(1, i.channels, height, width)
        net.reshape()
        for out in v.outputs:
            assert tuple(net.blobs[out.score].shape) == (1, out.classes, height, width), \
                (out.score, height, width)


def parameter_counts(net):
    """(learned, all): parameters of every layer, and of those that learn (not Deconvolution)."""
    types = dict(zip(net._layer_names, (layer.type for layer in net.layers)))
    sizes = {name: sum(int(np.prod(b.shape)) for b in blobs) for name, blobs in net.params.items()}
    return sum(s for n, s in sizes.items() if types[n] != 'Deconvolution'), sum(sizes.values())


# VGG16 has 138,357,544 parameters; FCN drops fc8 (4096 x 1000 + 1000) and adds score_fr
# (4096 x 21 + 21): 134,346,581, the paper's "134M". The bilinear 64x64 deconvolution adds
# 21 x 21 x 64 x 64 = 1,806,336 fixed ones. FCN-8s adds score_pool4 (512 x 21 + 21),
# score_pool3 (256 x 21 + 21) and 2 x (21 x 21 x 4 x 4) + 21 x 21 x 16 x 16 of deconvolutions:
# 134,489,759, the reference's "134.5M". CaffeNet (60,965,224) the same way: 56,954,261, "57M",
# plus its 63x63 deconvolution (1,750,329).
# BVLC GoogLeNet's deploy.prototxt (Caffe's models/bvlc_googlenet) holds 6,998,552 parameters; FCN
# drops loss3/classifier (1024 x 1000 + 1000) and adds score_fr (1024 x 21 + 21): 5,995,077, the
# paper's "6M" (CVPR Table 1), plus the 63x63 deconvolution (21 x 21 x 63 x 63 = 1,750,329).
@pytest.mark.parametrize('name, learned, total', [
    ('voc-fcn32s', 134346581, 136152917),
    ('voc-fcn8s', 134362751, 134489759),
    ('voc-fcn-alexnet', 56954261, 58704590),
    ('voc-fcn-googlenet', 5995077, 7745406),
])
def test_parameter_counts_are_fcns(name, learned, total):
    assert parameter_counts(net_from_proto(build.net_proto(get_variant(name), 'deploy'))) == (learned, total)


@pytest.mark.parametrize('name, paper_millions', [('voc-fcn-alexnet', 57), ('voc-fcn32s', 134),
                                                  ('voc-fcn-googlenet', 6)])
def test_learned_parameters_round_to_cvpr_table_1(name, paper_millions):
    learned, _ = parameter_counts(net_from_proto(build.net_proto(get_variant(name), 'deploy')))
    assert round(learned / 1e6) == paper_millions


def test_googlenet_classifier_has_bvlc_googlenets_parameter_count():
    """Our BVLC GoogLeNet deploy classifier (what its caffemodel loads into) counts as Caffe counts
    models/bvlc_googlenet/deploy.prototxt: 6,998,552."""
    from caffe_fcn.nets import ilsvrc
    net = net_from_proto(ilsvrc.classifier('googlenet'))
    assert sum(int(np.prod(b.data.shape)) for blobs in net.params.values() for b in blobs) == 6998552
