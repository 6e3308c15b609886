"""Surgery for FCN-GoogLeNet on a narrow random BVLC GoogLeNet: the caffemodel (with auxiliary
classifiers, as BVLC's has) loads by name into the deploy classifier, its trunk transplants into
the FCN form with the average pooling and classifier dropped, the FCN trunk computes exactly the
classifier's features, and voc-fcn-googlenet starts from it with a zero score layer."""
import dataclasses

import numpy as np
import pytest

from caffe_fcn.backend import import_caffe, net_from_proto
from caffe_fcn.backend.weights import net_with_weights, read_weights, save_weights
from caffe_fcn.nets import ilsvrc
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.trunks import CLASSIFIER_PAD1
from caffe_fcn.surgery.__main__ import main
from caffe_fcn.surgery.convolutionalize import convolutionalize
from caffe_fcn.surgery.stages import init_variant
from caffe_fcn.nets.registry import get_variant
from cli_support import assert_user_error
from surgery_nets import randomize
from test_surgery_stages import upsample_filt

WIDTHS = (4, 6, 4, 6, 8)
AUXILIARY = ('loss1/conv', 'loss1/fc', 'loss1/classifier', 'loss2/conv', 'loss2/fc', 'loss2/classifier')


def googlenet_fcn(path, out):
    """make googlenet-fcn on a narrow twin: the classifier loaded from `path`, convolutionalized, saved."""
    loaded = net_with_weights(ilsvrc.classifier('googlenet', widths=WIDTHS), path)
    twin, report = convolutionalize('googlenet', loaded, widths=WIDTHS)
    save_weights(twin, out)
    return report


@pytest.fixture(scope='module')
def bvlc_like(tmp_path_factory):
    """(classifier net, caffemodel path): a narrow random GoogLeNet saved with auxiliary layers."""
    folder = tmp_path_factory.mktemp('googlenet')
    classifier = net_from_proto(ilsvrc.classifier('googlenet', widths=WIDTHS))
    randomize(classifier, 3)
    path = str(folder / 'bvlc_googlenet.caffemodel')
    classifier.save(path)
    proto = import_caffe().proto.caffe_pb2.NetParameter()
    with open(path, 'rb') as f:
        proto.ParseFromString(f.read())
    for name in AUXILIARY:  # BVLC's caffemodel holds its training net's auxiliary classifiers too
        proto.layer.add(name=name, type='InnerProduct').blobs.add(shape=dict(dim=[2])).data.extend([1.0, 2.0])
    with open(path, 'wb') as f:
        f.write(proto.SerializeToString())
    return classifier, path


def test_googlenet_fcn_keeps_the_trunk_and_drops_pooling_and_classifiers(bvlc_like, tmp_path):
    classifier, path = bvlc_like
    out = str(tmp_path / 'googlenet-fcn.caffemodel')
    report = googlenet_fcn(path, out)
    trunk = [name for name in classifier.params if name != 'loss3/classifier']
    assert report.copied == trunk and len(trunk) == 57  # 3 stem + 9 x 6 inception convolutions
    assert report.dropped == ['loss3/classifier'] and report.reshaped == [] and report.untouched == []
    fcn = net_with_weights(ilsvrc.convolutionalized('googlenet', widths=WIDTHS), out)
    assert list(fcn.params) == trunk
    for name in trunk:
        for mine, theirs in zip(fcn.params[name], classifier.params[name]):
            np.testing.assert_array_equal(mine.data, theirs.data)


def test_the_fcn_trunk_computes_the_classifiers_features(bvlc_like, tmp_path):
    """With the classifier's padding, the convolutionalized trunk on a 224 x 224 image gives the
    classifier's inception_5b/output, and its 7 x 7 mean through loss3/classifier the class scores."""
    classifier, path = bvlc_like
    out = str(tmp_path / 'googlenet-fcn.caffemodel')
    googlenet_fcn(path, out)
    fcn = net_with_weights(ilsvrc.convolutionalized('googlenet', pad1=CLASSIFIER_PAD1['googlenet'], widths=WIDTHS), out)
    image = np.random.RandomState(0).randn(1, 3, 224, 224).astype(np.float32)
    classifier.blobs['data'].data[...] = image
    fcn.blobs['data'].data[...] = image
    classifier.forward()
    fcn.forward()
    features = fcn.blobs['inception_5b/output'].data
    np.testing.assert_allclose(features, classifier.blobs['inception_5b/output'].data, rtol=1e-5, atol=1e-6)
    weights, bias = (b.data for b in classifier.params['loss3/classifier'])
    scores = weights @ features[0].mean(axis=(1, 2)) + bias
    np.testing.assert_allclose(scores, classifier.blobs['loss3/classifier'].data[0], rtol=1e-4, atol=1e-5)


def test_voc_fcn_googlenet_starts_from_googlenet_fcn_with_zero_scores_and_bilinear_upscore(bvlc_like, tmp_path):
    classifier, path = bvlc_like
    googlenet_fcn(path, str(tmp_path / 'googlenet-fcn.caffemodel'))
    variant = dataclasses.replace(get_variant('voc-fcn-googlenet'), widths=WIDTHS)
    net = net_from_proto(net_proto(variant, 'deploy'))
    report = init_variant(variant, net, [read_weights(str(tmp_path / 'googlenet-fcn.caffemodel'))])
    assert report.untouched == ['score_fr'] and report.interpolated == ['upscore'] and report.dropped == []
    np.testing.assert_array_equal(net.params['inception_4c/5x5'][0].data,
                                  classifier.params['inception_4c/5x5'][0].data)
    assert not net.params['score_fr'][0].data.any()
    np.testing.assert_array_equal(net.params['upscore'][0].data[2, 2], upsample_filt(63))


def test_cli_refuses_weights_of_another_shape_in_one_line(bvlc_like, tmp_path, capsys):
    """`make googlenet-fcn` builds the full-width BVLC GoogLeNet: the narrow model does not fit it."""
    _, path = bvlc_like
    status = main(['googlenet', '--weights', path, '--out', str(tmp_path)])
    assert_user_error(status, capsys, 'python -m caffe_fcn.surgery',
                      r"layer 'conv1/7x7_s2' holds blobs of shapes \[\(4, 3, 7, 7\), \(4,\)\], the net expects "
                      r"\[\(64, 3, 7, 7\), \(64,\)\].*`make weights-googlenet`")
    assert not (tmp_path / 'googlenet-fcn.caffemodel').exists()
