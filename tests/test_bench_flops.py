"""The FLOP counter of the throughput benchmark (bench/flops.py), on real Caffe nets."""
import pytest

from bench.flops import layer_costs, net_flops
from bench.nets import set_input_size
from caffe_fcn.backend import select_device
from caffe_fcn.paths import resolve

caffe = select_device()
L = caffe.layers
P = caffe.params

# Hand count of the small net below (multiply-adds; input 3 x 12 x 10):
#   conv_a  k3 pad1, 3 -> 4:           12*10 positions x 4 outputs x (3*3*3)      = 12960
#   conv_b  k3 stride2, 4 -> 6, 2 groups: 5*4 positions x 6 outputs x (2*3*3)     =  2160
#   up      deconv k4 stride2, 6 -> 6, 3 groups: 5*4 inputs x 6 x (2*4*4)         =  3840
#   fc      6*12*10 = 720 inputs -> 7 outputs                                      =  5040
HAND_MACS = {'conv_a': 12960, 'conv_b': 2160, 'up': 3840, 'fc': 5040}


def small_net(tmp_path, transpose=False):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 12, 10]))
    n.conv_a = L.Convolution(n.data, num_output=4, kernel_size=3, pad=1)
    n.relu_a = L.ReLU(n.conv_a, in_place=True)
    n.conv_b = L.Convolution(n.conv_a, num_output=6, kernel_size=3, stride=2, group=2)
    n.up = L.Deconvolution(n.conv_b, convolution_param=dict(num_output=6, kernel_size=4, stride=2, group=3,
                                                            bias_term=False))
    n.pool = L.Pooling(n.up, pool=P.Pooling.MAX, kernel_size=2, stride=1)
    n.fc = L.InnerProduct(n.up, num_output=7, transpose=transpose)
    path = tmp_path / 'small.prototxt'
    path.write_text(str(n.to_proto()))
    return caffe.Net(str(path), caffe.TEST)


def test_small_net_counts_match_the_hand_count(tmp_path):
    net = small_net(tmp_path)
    assert net.blobs['up'].data.shape == (1, 6, 12, 10)  # the geometry the hand count assumes
    costs = layer_costs(net)
    assert {c.name: c.macs for c in costs} == HAND_MACS
    assert {c.name: c.type for c in costs} == {'conv_a': 'Convolution', 'conv_b': 'Convolution',
                                               'up': 'Deconvolution', 'fc': 'InnerProduct'}
    assert net_flops(net) == 2 * sum(HAND_MACS.values()) == 48000


def test_transposed_inner_product_counts_the_same_product(tmp_path):
    net = small_net(tmp_path, transpose=True)
    assert net.layers[list(net._layer_names).index('fc')].blobs[0].shape[0] == 720  # K x N storage
    assert {c.name: c.macs for c in layer_costs(net)}['fc'] == HAND_MACS['fc']


def test_count_follows_the_input_shape_batch_and_size(tmp_path):
    net = small_net(tmp_path)
    net.blobs['data'].reshape(2, 3, 12, 10)
    net.reshape()
    assert net_flops(net) == 2 * 48000
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 12, 10]))
    n.conv = L.Convolution(n.data, num_output=4, kernel_size=3, pad=1)
    path = tmp_path / 'conv.prototxt'
    path.write_text(str(n.to_proto()))
    conv = caffe.Net(str(path), caffe.TEST)
    set_input_size(conv, 24, 30)
    assert net_flops(conv) == 2 * 24 * 30 * 4 * 27


def test_layers_without_multiply_adds_count_nothing(tmp_path):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.pool = L.Pooling(n.data, pool=P.Pooling.MAX, kernel_size=2, stride=2)
    n.relu = L.ReLU(n.pool)
    n.sum = L.Eltwise(n.pool, n.relu)
    path = tmp_path / 'free.prototxt'
    path.write_text(str(n.to_proto()))
    assert net_flops(caffe.Net(str(path), caffe.TEST)) == 0


def test_convolution_with_two_bottoms_is_refused_by_name(tmp_path):
    n = caffe.NetSpec()
    n.a = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.b = L.Input(shape=dict(dim=[1, 3, 8, 8]))
    n.twin_a, n.twin_b = L.Convolution(n.a, n.b, num_output=2, kernel_size=1, ntop=2, name='twin')
    path = tmp_path / 'twin.prototxt'
    path.write_text(str(n.to_proto()))
    with pytest.raises(ValueError, match="'twin'.*2 bottoms"):
        net_flops(caffe.Net(str(path), caffe.TEST))


def test_fcn8s_deploy_at_500_is_the_reference_363_gflop():
    """The reference sheet (section 5): FCN-8s at 500x500 is about 363 GFLOP per forward."""
    net = caffe.Net(resolve('nets/voc-fcn8s/deploy.prototxt'), caffe.TEST)
    assert net.blobs['data'].data.shape == (1, 3, 500, 500)
    assert round(net_flops(net) / 1e9) == 363
