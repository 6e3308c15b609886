"""fc -> conv: a convolutionalised classifier computes the classifier at every window, in real Caffe."""
import numpy as np

from caffe_fcn.surgery import transplant
from surgery_nets import L, caffe, load, randomize

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
    return load(n)


def test_convolutionalised_classifier_equals_classifier_on_every_input_window():
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
