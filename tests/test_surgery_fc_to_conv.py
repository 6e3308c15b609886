"""fc -> conv: a convolutionalized classifier computes the classifier at every window, in real Caffe."""
import numpy as np
import pytest

from caffe_fcn.backend import net_from_proto
from caffe_fcn.nets import ilsvrc
from caffe_fcn.nets.trunks import CLASSIFIER_PAD1
from caffe_fcn.surgery import transplant
from surgery_nets import L, caffe, randomize

WINDOW, STRIDE = 22, 4  # the small classifier's input size and its total stride (two 2x2 poolings)


def small_classifier(height, width, batch=1, fully_convolutional=False):
    """Valid (unpadded) convs and poolings, so a window of a larger input sees exactly what the classifier sees."""
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[batch, 3, height, width]))
    n.conv1 = L.Convolution(n.data, num_output=8, kernel_size=3)
    n.relu1 = L.ReLU(n.conv1, in_place=True)
    n.pool1 = L.Pooling(n.relu1, pool=caffe.params.Pooling.MAX, kernel_size=2, stride=2)
    n.conv2 = L.Convolution(n.pool1, num_output=16, kernel_size=3)
    n.relu2 = L.ReLU(n.conv2, in_place=True)
    n.pool2 = L.Pooling(n.relu2, pool=caffe.params.Pooling.MAX, kernel_size=2, stride=2)  # 16 x 4 x 4
    fc = {'fc6': dict(num_output=32, kernel_size=4), 'fc7': dict(num_output=32, kernel_size=1),
          'fc8': dict(num_output=10, kernel_size=1)}
    bottom = n.pool2
    for name, spec in fc.items():
        if fully_convolutional:
            n[name] = L.Convolution(bottom, **spec)
        else:
            n[name] = L.InnerProduct(bottom, num_output=spec['num_output'])
        if name != 'fc8':
            n['relu' + name[2:]] = L.ReLU(n[name], in_place=True)
        bottom = n[name]
    return net_from_proto(n)


def test_convolutionalized_classifier_equals_classifier_on_every_input_window():
    height, width = WINDOW + 3 * STRIDE, WINDOW + 2 * STRIDE
    twin = small_classifier(height, width, fully_convolutional=True)
    rows, cols = 4, 3
    classifier = small_classifier(WINDOW, WINDOW, batch=rows * cols)
    randomize(classifier, 0)
    report = transplant(twin, classifier)
    assert report.reshaped == ['fc6', 'fc7', 'fc8'] and report.copied == ['conv1', 'conv2']

    image = np.random.RandomState(1).standard_normal((3, height, width)).astype(np.float32)
    twin.blobs['data'].data[0] = image
    scores = twin.forward()['fc8'][0]
    assert scores.shape == (10, rows, cols)
    windows = [image[:, STRIDE * i:STRIDE * i + WINDOW, STRIDE * j:STRIDE * j + WINDOW]
               for i in range(rows) for j in range(cols)]
    classifier.blobs['data'].data[...] = np.stack(windows)
    expected = classifier.forward()['fc8'].reshape(rows, cols, 10).transpose(2, 0, 1)
    assert np.abs(expected).max() > 0.1  # the comparison is not between two near-zero maps
    assert np.abs(scores - expected).max() <= 1e-4


@pytest.fixture(scope='module')
def vgg16_pair():
    """The VGG16 ILSVRC classifier with random weights and its convolutionalized twin (classifier padding),
    filled by transplant: each built once, ~0.5 GB of parameters apiece."""
    classifier = net_from_proto(ilsvrc.classifier('vgg16'))
    randomize(classifier, 2)
    twin = net_from_proto(ilsvrc.convolutionalized('vgg16', pad1=CLASSIFIER_PAD1['vgg16']))
    report = transplant(twin, classifier)
    assert report.reshaped == ['fc6', 'fc7', 'fc8'] and report.dropped == [] and report.untouched == []
    return classifier, twin


def forward_image(net, image):
    net.blobs['data'].reshape(1, *image.shape)
    net.reshape()
    net.blobs['data'].data[0] = image
    net.forward()
    return net.blobs


def test_vgg16_twin_on_224_input_gives_the_classifier_scores_as_a_1x1_map(vgg16_pair):
    classifier, twin = vgg16_pair
    image = np.random.RandomState(3).standard_normal((3, 224, 224)).astype(np.float32)
    expected = forward_image(classifier, image)['fc8'].data[0].copy()
    scores = forward_image(twin, image)['fc8'].data[0].copy()
    assert scores.shape == (1000, 1, 1)
    assert np.abs(expected).max() > 0.1
    assert np.abs(scores[:, 0, 0] - expected).max() <= 1e-4


def test_vgg16_twin_on_256_input_gives_classifier_fc_layers_on_each_7x7_pool5_window(vgg16_pair):
    classifier, twin = vgg16_pair
    image = np.random.RandomState(4).standard_normal((3, 256, 256)).astype(np.float32)
    scores = forward_image(twin, image)['fc8'].data[0].copy()
    pool5 = twin.blobs['pool5'].data[0].copy()
    assert pool5.shape[1:] == (8, 8) and scores.shape == (1000, 2, 2)
    for i in range(2):
        for j in range(2):
            classifier.blobs['pool5'].data[0] = pool5[:, i:i + 7, j:j + 7]
            classifier.forward(start='fc6')
            expected = classifier.blobs['fc8'].data[0]
            assert np.abs(expected).max() > 0.1
            assert np.abs(scores[:, i, j] - expected).max() <= 1e-4
