"""Starting weights for each kind of variant init, on narrow twins of the registry's variants in real Caffe."""
import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from caffe_fcn.backend import net_from_proto
from caffe_fcn.backend.weights import WeightsError, net_with_weights, read_weights, save_weights
from caffe_fcn.errors import OutputExists
from caffe_fcn.nets import ilsvrc
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.surgery import SurgeryError, upsample_filt
from caffe_fcn.surgery.__main__ import main, where_to_get
from caffe_fcn.surgery.convolutionalize import convolutionalize
from caffe_fcn.surgery.stages import init_variant
from cli_support import assert_user_error
from surgery_nets import randomize

WIDTHS = (4, 4, 6, 6, 8, 16)
VGG16_TRUNK = ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv4_1', 'conv4_2',
               'conv4_3', 'conv5_1', 'conv5_2', 'conv5_3', 'fc6', 'fc7']


def narrow(name):
    return dataclasses.replace(get_variant(name), widths=WIDTHS)


def deploy(name):
    return net_from_proto(net_proto(narrow(name), 'deploy'))


def trained(name, tmp_path, seed):
    """A narrow deploy net of `name` with random ("trained") weights, and its saved caffemodel."""
    net = deploy(name)
    randomize(net, seed)
    path = str(tmp_path / ('%s.caffemodel' % name))
    net.save(path)
    return net, path


def save_in_v1_format(net, path):
    """Save like the 2014 ILSVRC downloads: V1 `layers`, every blob 4-D num/channels/height/width
    (InnerProduct weights 1 x 1 x O x K, biases 1 x 1 x 1 x O)."""
    from caffe.proto import caffe_pb2
    kinds = {'Convolution': caffe_pb2.V1LayerParameter.CONVOLUTION,
             'InnerProduct': caffe_pb2.V1LayerParameter.INNER_PRODUCT}
    proto = caffe_pb2.NetParameter(name='VGG_ILSVRC_16_layers')
    for name, layer in zip(net._layer_names, net.layers):
        if not len(layer.blobs):
            continue
        old = proto.layers.add(name=name, type=kinds[layer.type])
        for blob in layer.blobs:
            shape = (1,) * (4 - blob.data.ndim) + blob.data.shape
            old.blobs.add(num=shape[0], channels=shape[1], height=shape[2], width=shape[3]).data.extend(
                blob.data.ravel().tolist())
    with open(path, 'wb') as f:
        f.write(proto.SerializeToString())


@pytest.fixture(scope='module')
def vgg16_fcn(tmp_path_factory):
    """A narrow random ILSVRC VGG16 classifier, saved in the downloads' old format, then convolutionalized."""
    folder = tmp_path_factory.mktemp('ilsvrc')
    classifier = net_from_proto(ilsvrc.classifier('vgg16', widths=WIDTHS))
    randomize(classifier, 10)
    save_in_v1_format(classifier, str(folder / 'VGG_ILSVRC_16_layers.caffemodel'))
    loaded = net_with_weights(ilsvrc.classifier('vgg16', widths=WIDTHS), str(folder / 'VGG_ILSVRC_16_layers.caffemodel'))
    twin, report = convolutionalize('vgg16', loaded, widths=WIDTHS)
    assert report.reshaped == ['fc6', 'fc7', 'fc8'] and report.untouched == [] and report.dropped == []
    return classifier, save_weights(twin, str(folder / 'vgg16-fcn.caffemodel'))


def assert_same(net, layer, source, source_layer=None):
    for mine, theirs in zip(net.params[layer], source.params[source_layer or layer]):
        np.testing.assert_array_equal(mine.data, theirs.data.reshape(mine.data.shape))


def test_fcn32s_from_ilsvrc_takes_trunk_and_fc_weights_zero_score_and_bilinear_upscore(vgg16_fcn):
    classifier, fcn_weights = vgg16_fcn
    net = deploy('voc-fcn32s')
    report = init_variant(narrow('voc-fcn32s'), net, [read_weights(fcn_weights)])
    assert report.copied == VGG16_TRUNK and report.reshaped == []  # fc6/fc7 are convolutions in both
    assert report.dropped == ['fc8'] and report.untouched == ['score_fr'] and report.interpolated == ['upscore']
    for layer in VGG16_TRUNK:
        assert_same(net, layer, classifier)
    assert not net.params['score_fr'][0].data.any() and not net.params['score_fr'][1].data.any()
    np.testing.assert_array_equal(net.params['upscore'][0].data[3, 3], upsample_filt(64))


def test_color_depth_first_layer_is_rgb_filters_plus_their_mean(vgg16_fcn):
    classifier, fcn_weights = vgg16_fcn
    net = deploy('nyud-fcn32s-color-d')
    report = init_variant(narrow('nyud-fcn32s-color-d'), net, [read_weights(fcn_weights)])
    assert report.derived == ['conv1_1_bgrd'] and report.untouched == ['score_fr']
    assert 'conv1_1' in report.dropped
    rgb = classifier.params['conv1_1'][0].data
    bgrd = net.params['conv1_1_bgrd'][0].data
    np.testing.assert_array_equal(bgrd[:, :3], rgb)
    np.testing.assert_allclose(bgrd[:, 3], (rgb[:, 0] + rgb[:, 1] + rgb[:, 2]) / 3, rtol=1e-6)
    assert_same(net, 'conv1_2', classifier)


def test_color_hha_streams_each_come_from_their_own_single_stream_net(tmp_path):
    color, color_path = trained('nyud-fcn32s-color', tmp_path, 11)
    hha, hha_path = trained('nyud-fcn32s-hha', tmp_path, 12)
    net = deploy('nyud-fcn32s-color-hha')
    report = init_variant(narrow('nyud-fcn32s-color-hha'), net, [read_weights(color_path), read_weights(hha_path)])
    for layer in VGG16_TRUNK + ['score_fr']:
        assert_same(net, layer + 'color', color, layer)
        assert_same(net, layer + 'hha', hha, layer)
    assert report.dropped == ['color:upscore', 'hha:upscore']
    assert report.untouched == [] and report.interpolated == ['upscore']
    with pytest.raises(SurgeryError, match='2 trained single-stream models'):
        init_variant(narrow('nyud-fcn32s-color-hha'), net, [read_weights(color_path)])


def bilinear_upsample(score, kernel, stride):
    """Independent bilinear interpolation, the full output of a stride-`stride` upsampling with a
    `kernel` = 2 x stride footprint: output pixel y reads the input at (y - (kernel-1)/2) / stride,
    with zeros beyond the input's edge."""
    channels, height, width = score.shape
    padded = np.pad(score.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    ys = (np.arange((height - 1) * stride + kernel) - (kernel - 1) / 2) / stride + 1
    xs = (np.arange((width - 1) * stride + kernel) - (kernel - 1) / 2) / stride + 1
    grid = np.meshgrid(ys, xs, indexing='ij')
    return np.stack([ndimage.map_coordinates(padded[c], grid, order=1) for c in range(channels)])


def test_fcn16s_from_fcn32s_keeps_trunk_and_score_fr_zero_pool4_and_scores_as_composed_bilinear(tmp_path):
    fcn32s, path = trained('voc-fcn32s', tmp_path, 13)
    net = deploy('voc-fcn16s')
    report = init_variant(narrow('voc-fcn16s'), net, [read_weights(path)])
    assert report.copied == VGG16_TRUNK + ['score_fr']
    assert report.dropped == ['upscore'] and report.untouched == ['score_pool4']
    assert report.interpolated == ['upscore2', 'upscore16']
    for layer in VGG16_TRUNK + ['score_fr']:
        assert_same(net, layer, fcn32s)
    assert not net.params['score_pool4'][0].data.any() and not net.params['score_pool4'][1].data.any()

    height, width = 77, 90
    image = np.random.RandomState(5).standard_normal((3, height, width)).astype(np.float32)
    net.blobs['data'].reshape(1, 3, height, width)
    net.reshape()
    net.blobs['data'].data[0] = image
    net.forward()
    score_fr = net.blobs['score_fr'].data[0]
    assert np.abs(score_fr).max() > 0.1
    fused = bilinear_upsample(score_fr, 4, 2)  # + crop(score_pool4) = 0
    final = bilinear_upsample(fused, 32, 16)[:, 27:27 + height, 27:27 + width]  # 27: the 16s crop offset
    score = net.blobs['score'].data[0]
    assert score.shape == (21, height, width)
    assert np.abs(score - final).max() <= 1e-4


def test_fcn8s_from_fcn16s_adds_only_a_zero_score_pool3(tmp_path):
    fcn16s, path = trained('voc-fcn16s', tmp_path, 14)
    net = deploy('voc-fcn8s')
    report = init_variant(narrow('voc-fcn8s'), net, [read_weights(path)])
    assert report.copied == VGG16_TRUNK + ['score_fr', 'score_pool4']
    assert report.dropped == ['upscore16'] and report.untouched == ['score_pool3']
    assert report.interpolated == ['upscore2', 'upscore_pool4', 'upscore8']
    assert_same(net, 'score_pool4', fcn16s)
    assert not net.params['score_pool3'][0].data.any()


def test_stage_init_from_a_different_width_names_the_layer(tmp_path):
    full_width_shaped = {'conv1_1': [np.zeros((64, 3, 3, 3), np.float32), np.zeros(64, np.float32)]}
    with pytest.raises(SurgeryError, match=r"layer 'conv1_1'.*\(64, 3, 3, 3\).*\(4, 3, 3, 3\)"):
        init_variant(narrow('voc-fcn16s'), deploy('voc-fcn16s'), [full_width_shaped])
    with pytest.raises(SurgeryError, match='trained voc-fcn32s weights'):
        init_variant(narrow('voc-fcn16s'), deploy('voc-fcn16s'), [])


def test_convolutionalize_refuses_missing_wrong_or_existing_files(vgg16_fcn, tmp_path):
    """What `python -m caffe_fcn.surgery vgg16` does around convolutionalize: load the classifier's
    weights (checked to fit), write the twin's (never over a file)."""
    _, fcn_weights = vgg16_fcn
    classifier, hint = ilsvrc.classifier('vgg16', widths=WIDTHS), where_to_get('vgg16')
    with pytest.raises(WeightsError, match='absent.caffemodel does not exist: Get it with `make weights-vgg16`'):
        net_with_weights(classifier, str(tmp_path / 'absent.caffemodel'), hint)
    _, narrow_32s = trained('voc-fcn32s', tmp_path, 15)
    with pytest.raises(WeightsError, match=r"voc-fcn32s.caffemodel: layer 'fc6' holds blobs of shapes \[\(16, 8, 7, 7\), \(16,\)\], "
                                           r"the net expects \[\(16, 392\), \(16,\)\].*make weights-vgg16"):
        net_with_weights(classifier, narrow_32s, hint)
    with pytest.raises(WeightsError, match=r"layer 'conv1_1' holds blobs of shapes \[\(4, 3, 3, 3\), \(4,\)\], "
                                           r"the net expects \[\(8, 3, 3, 3\), \(8,\)\]"):
        net_with_weights(ilsvrc.classifier('vgg16', widths=(8,) * 6), fcn_weights, hint)
    twin, _ = convolutionalize('vgg16', net_from_proto(classifier), widths=WIDTHS)
    with pytest.raises(OutputExists, match='vgg16-fcn.caffemodel already exists; not replacing it'):
        save_weights(twin, fcn_weights)


def test_cli_reports_errors_in_one_line_and_exit_status_2(tmp_path, capsys):
    prog = 'python -m caffe_fcn.surgery'
    status = main(['vgg16', '--weights', str(tmp_path / 'absent.caffemodel'), '--out', str(tmp_path)])
    assert_user_error(status, capsys, prog, 'absent.caffemodel does not exist: Get it with `make weights-vgg16`')
    existing = tmp_path / 'voc-fcn16s-init.caffemodel'
    existing.write_bytes(b'keep me')
    assert_user_error(main(['init', 'nets/voc-fcn16s', '--out', str(tmp_path)]), capsys, prog,
                      'voc-fcn16s-init.caffemodel already exists; not replacing it')
    assert existing.read_bytes() == b'keep me'
