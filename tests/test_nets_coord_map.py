"""Crop offsets from coordinate maps: the reference's offsets, Caffe's own coord_map, errors."""
from fractions import Fraction

import pytest
from caffe import coord_map as caffe_coord_map

from caffe_fcn.nets import heads, layers, trunks
from caffe_fcn.nets.registry import STAGES
from caffe_fcn.nets.coord_map import CoordMap, crop_offset, top_map
from nets_support import caffe

L = caffe.layers


def fcn(trunk, head):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 64, 64]))
    fc7 = trunks.TRUNKS[trunk](n, n.data, widths=(4,) * STAGES[trunk])
    n.score_fr = layers.score(fc7, 5)
    heads.upsample_head(n, n.score_fr, head, 5, n.data, 'score', trunk=trunk)
    return n


def offsets(n):
    return {l.name: l.crop_param.offset[0] for l in n.to_proto().layer if l.type == 'Crop'}


@pytest.mark.parametrize('trunk, head, expected', [
    ('vgg16', '32s', {'score': 19}),
    ('vgg16', '16s', {'score_pool4c': 5, 'score': 27}),
    ('vgg16', '8s', {'score_pool4c': 5, 'score_pool3c': 9, 'score': 31}),
    ('vgg16', '8s-atonce', {'score_pool4c': 5, 'score_pool3c': 9, 'score': 31}),
    ('alexnet', '32s', {'score': 18}),
    ('googlenet', '32s', {'score': 98}),  # no reference: by hand below
])
def test_crop_offsets_equal_the_reference_releases(trunk, head, expected):
    assert offsets(fcn(trunk, head)) == expected


@pytest.mark.parametrize('trunk, head', [('vgg16', '8s'), ('vgg16', '8s-atonce'),
                                         ('alexnet', '32s')])
def test_crop_offsets_equal_caffes_own_coord_map(trunk, head):
    n = fcn(trunk, head)
    for name, offset in offsets(n).items():
        bottom, like = n[name].fn.inputs
        assert caffe_coord_map.crop(bottom, like).fn.params['crop_param']['offset'] == [offset]


def test_vgg16_pool5_map_by_hand():
    # conv1_1 (k3 p100) shifts by +99; each other 3x3 pad-1 conv is the identity; each 2x2
    # stride-2 pool maps x -> (x - 1/2) / 2. Five pools: (x + 99 - 31/2) / 32 = x/32 + 167/64.
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 64, 64]))
    trunks.vgg16(n, n.data, widths=(4,) * 6)
    assert top_map(n.pool5) == CoordMap(Fraction(1, 32), Fraction(167, 64))
    assert top_map(n.relu1_1) == CoordMap(1, 99)


def test_googlenet_map_and_offset_by_hand():
    # conv1/7x7_s2 (k7 s2 p100): x -> (x + 100 - 3) / 2; each 3x3 stride-2 pool: x -> (x - 1) / 2;
    # every inception branch keeps the grid (1x1, 3x3 pad 1, 5x5 pad 2, 3x3 stride-1 pool pad 1),
    # so its Concat is the identity. Four pools: 97/2 -> 95/4 -> 91/8 -> 83/16 -> 67/32. A 64-pixel
    # deconvolution (32y + 31.5) would land at x + 98.5, half a pixel off; the 63-pixel one at x + 98.
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 64, 64]))
    top = trunks.googlenet(n, n.data, widths=(4,) * 5)
    assert top_map(n['inception_3a/output']) == CoordMap(Fraction(1, 8), Fraction(91, 8))
    assert top_map(top) == CoordMap(Fraction(1, 32), Fraction(67, 32))
    n.score_fr = layers.score(top, 5)
    n.up64 = layers.upsample(n.score_fr, 5, 64, 32)
    with pytest.raises(ValueError, match="offset would be 197/2"):
        layers.crop(n, n.up64, n.data)
    assert offsets(fcn('googlenet', '32s')) == {'score': 98}


def test_concat_of_inputs_is_the_identity():
    n = caffe.NetSpec()
    n.color = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.depth = L.Input(shape=dict(dim=[1, 1, 8, 8]))
    n.data = L.Concat(n.color, n.depth)
    n.conv = layers.conv(n.data, 2, 3, pad=2)
    assert crop_offset(n.conv, n.color) == 1


def test_unalignable_crops_name_both_tops():
    n = fcn('vgg16', '32s')
    with pytest.raises(ValueError, match="crop of 'data' onto 'upscore'.* -19"):
        layers.crop(n, n.data, n.upscore)
    with pytest.raises(ValueError, match="crop of 'pool4' onto 'data'.*scales"):
        layers.crop(n, n.pool4, n.data)
    n.half = L.Pooling(n.data, kernel_size=2, stride=1, pool=caffe.params.Pooling.MAX)
    with pytest.raises(ValueError, match="crop of 'half' onto 'data'.* -1/2,"):
        layers.crop(n, n.half, n.data)


def test_layers_without_a_rule_and_anisotropic_kernels_are_named():
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.fc = L.InnerProduct(n.data, num_output=2)
    with pytest.raises(ValueError, match="InnerProduct .*'fc'"):
        crop_offset(n.fc, n.data, {id(n.fc): 'fc'})
    n.wide = L.Convolution(n.data, num_output=2, kernel_h=3, kernel_w=5)
    with pytest.raises(ValueError, match="'wide' has different kernel_size"):
        crop_offset(n.wide, n.data, {id(n.wide): 'wide'})


def test_inputs_on_different_grids_cannot_be_fused():
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.shifted = layers.conv(n.data, 3, 3, pad=2)
    n.sum = layers.fuse(n.data, n.shifted)
    with pytest.raises(ValueError, match="inputs of 'sum'.*different grids"):
        crop_offset(n.sum, n.data, {id(top): name for name, top in n.tops.items()})
