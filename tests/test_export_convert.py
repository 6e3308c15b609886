"""The converter layer by layer, against Caffe's own forward: a net holding every supported layer type
with the parameter forms the variants do not use (kernel_h/kernel_w, per-axis pads, dilation, groups,
deconvolution bias, leaky ReLU, floor-rounded and padded pooling, per-axis crop offsets, SUM coefficients, PROD,
MAX, Scale with bias, Concat), at odd input sizes; and the layers it must refuse, by name."""
import numpy as np
import pytest

from caffe_fcn.backend import net_from_proto, select_device
from caffe_fcn.export.convert import ExportError, caffe_to_onnx
from caffe_fcn.export.runtime import forward, session

caffe = select_device()
L, P = caffe.layers, caffe.params
TOLERANCE = 1e-5  # of the output's range, as in test_export_parity.py


def zoo():
    n = caffe.NetSpec()
    n.image = L.Input(shape=dict(dim=[1, 3, 40, 40]))
    n.extra = L.Input(shape=dict(dim=[1, 2, 40, 40]))
    n.both = L.Concat(n.image, n.extra, axis=1)
    n.wide = L.Convolution(n.both, num_output=6, kernel_h=3, kernel_w=5, pad_h=1, pad_w=2, stride=1)
    n.wide_relu = L.ReLU(n.wide, negative_slope=0.1, in_place=True)
    n.grouped = L.Convolution(n.wide, num_output=6, kernel_size=3, dilation=2, pad=2, stride=2, group=3,
                              bias_term=False)
    n.pool_ceil = L.Pooling(n.grouped, pool=P.Pooling.MAX, kernel_size=3, stride=2)
    n.pool_floor = L.Pooling(n.grouped, pool=P.Pooling.MAX, kernel_h=3, kernel_w=2, stride_h=2, stride_w=3,
                             round_mode=P.Pooling.FLOOR)
    # Padded, rounded up: at odd sizes Caffe drops the last window (it would start in the padding).
    n.pool_padded = L.Pooling(n.wide, pool=P.Pooling.MAX, kernel_size=2, stride=2, pad=1)
    n.pool_same = L.Pooling(n.wide, pool=P.Pooling.MAX, kernel_size=3, stride=1, pad=1)  # GoogLeNet's
    n.pool_padded_floor = L.Pooling(n.wide, pool=P.Pooling.MAX, kernel_size=3, stride=2, pad_h=1, pad_w=0,
                                    round_mode=P.Pooling.FLOOR)
    n.norm = L.LRN(n.pool_ceil, local_size=3, alpha=0.5, beta=0.75, k=2)
    n.drop = L.Dropout(n.norm, dropout_ratio=0.3, in_place=True)
    n.up = L.Deconvolution(n.norm, convolution_param=dict(num_output=6, kernel_size=5, stride=2, group=2))
    n.up_crop = L.Crop(n.up, n.grouped, crop_param=dict(axis=2, offset=[1, 0]))
    n.scaled = L.Scale(n.up_crop, bias_term=True)
    n.weighted = L.Eltwise(n.scaled, n.grouped, operation=P.Eltwise.SUM, coeff=[2.0, -0.5])
    n.product = L.Eltwise(n.weighted, n.grouped, operation=P.Eltwise.PROD)
    n.larger = L.Eltwise(n.product, n.weighted, operation=P.Eltwise.MAX)
    n.out = L.Crop(n.larger, n.pool_ceil, crop_param=dict(axis=2, offset=2))
    return n.to_proto()


def random_net(proto, seed=0):
    net = net_from_proto(proto)
    rng = np.random.default_rng(seed)
    for name in net.params:
        for blob in net.params[name]:
            blob.data[...] = rng.standard_normal(blob.data.shape)
    return net


def caffe_forward(net, inputs):
    """{output: array} of one Caffe forward on `inputs` ({blob: array}); the export tests' reference."""
    for name, array in inputs.items():
        net.blobs[name].reshape(*array.shape)
        net.blobs[name].data[...] = array
    net.forward()
    return {name: net.blobs[name].data.copy() for name in net.outputs}


def test_every_supported_layer_form_equals_caffe_at_odd_sizes():
    proto = zoo()
    net = random_net(proto)
    sess = session(caffe_to_onnx(proto, net))
    rng = np.random.default_rng(1)
    # The up_crop size follows `grouped`, whose size follows the input: the crop reads it at run time.
    for height, width in [(40, 40), (23, 31), (57, 45)]:
        inputs = {'image': rng.standard_normal((1, 3, height, width), dtype=np.float32),
                  'extra': rng.standard_normal((1, 2, height, width), dtype=np.float32)}
        expected = caffe_forward(net, inputs)
        got = forward(sess, inputs)
        assert sorted(got) == sorted(expected) == ['out', 'pool_floor', 'pool_padded', 'pool_padded_floor', 'pool_same']
        for blob, reference in expected.items():
            assert got[blob].shape == reference.shape
            worst = np.abs(got[blob] - reference).max() / np.ptp(reference)
            print('%dx%d %s %s: worst |ORT - Caffe| %.2e of the range (tolerance %.0e)'
                  % (height, width, blob, reference.shape, worst, TOLERANCE))
            assert worst < TOLERANCE


def test_in_place_layers_keep_blob_names_for_their_last_version():
    proto = zoo()
    model = caffe_to_onnx(proto, random_net(proto))
    produced = {out: node.name for node in model.graph.node for out in node.output}
    assert produced['wide'] == 'wide_relu' and produced['wide/wide'] == 'wide'
    assert produced['norm'] == 'drop' and produced['norm/norm'] == 'norm'
    assert [i.name for i in model.graph.input] == ['image', 'extra']
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ['batch', 3, 'height', 'width']


def one_layer_net(add):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 16, 16]))
    n.odd = add(n.data)
    return n.to_proto()


@pytest.mark.parametrize('add, message', [
    (lambda x: L.InnerProduct(x, num_output=4), "layer 'odd' of type InnerProduct has no ONNX translation"),
    (lambda x: L.Softmax(x), "layer 'odd' of type Softmax has no ONNX translation"),
    (lambda x: L.Pooling(x, pool=P.Pooling.AVE, kernel_size=2, stride=2),
     r"layer 'odd' \(Pooling\): pooling method AVE \(only MAX\)"),
    (lambda x: L.Pooling(x, pool=P.Pooling.MAX, global_pooling=True), r"layer 'odd' \(Pooling\): global pooling"),
    (lambda x: L.LRN(x, norm_region=P.LRN.WITHIN_CHANNEL), r"layer 'odd' \(LRN\): LRN within channels"),
    (lambda x: L.Scale(x, L.Input(shape=dict(dim=[1, 3])), axis=0),
     r"layer 'odd' \(Scale\): a scale given as a second bottom"),
])
def test_a_layer_without_an_exact_translation_is_an_error_naming_it(add, message):
    proto = one_layer_net(add)
    with pytest.raises(ExportError, match=message):
        caffe_to_onnx(proto, random_net(proto))
