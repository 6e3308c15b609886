"""The ILSVRC classifiers FCN starts from, written by the same trunk builders.

`classifier(trunk)` is the deploy net of the published ImageNet model, so its caffemodel loads
by layer name: VGG16 as `VGG_ILSVRC_16_layers` (224x224 input, fc6/fc7 4096, fc8 1000),
AlexNet as CaffeNet (`bvlc_reference_caffenet` layout, pool before LRN, 227x227 input) and
GoogLeNet as `bvlc_googlenet` (224x224 input, average pooling, loss3/classifier 1000).
`convolutionalized(trunk)` is its twin with the same layer names but fc6/fc7/fc8 as
convolutions (GoogLeNet: its trunk, without average pooling and classifier), and the FCN padding
(pad1=100) by default: the net whose weights (weights/vgg16-fcn.caffemodel,
weights/alexnet-fcn.caffemodel, weights/googlenet-fcn.caffemodel) the 32s variants start from.
"""
from caffe_fcn.backend import import_caffe
from caffe_fcn.nets import layers
from caffe_fcn.nets.registry import VariantError
from caffe_fcn.nets.trunks import CLASSIFIER_PAD1, FCN_PAD1, TRUNKS

caffe = import_caffe()
L = caffe.layers

NET_NAMES = {'vgg16': 'VGG_ILSVRC_16_layers', 'alexnet': 'CaffeNet', 'googlenet': 'GoogleNet'}
INPUT_SIZES = {'vgg16': 224, 'alexnet': 227, 'googlenet': 224}
ILSVRC_CLASSES = 1000
GOOGLENET_POOL = 7  # pool5/7x7_s1: the average over the 7 x 7 grid of a 224 x 224 input


def _check_trunk(trunk):
    if trunk not in TRUNKS:
        raise VariantError('unknown trunk %r; choose one of %s' % (trunk, sorted(TRUNKS)))


def _build(trunk, fc, pad1, widths, classes, size):
    _check_trunk(trunk)
    size = INPUT_SIZES[trunk] if size is None else size
    n = caffe.NetSpec()
    n.data = L.Input(name='input', shape=dict(dim=[1, 3, size, size]))
    top = TRUNKS[trunk](n, n.data, widths=widths, pad1=pad1, fc=fc, dropout=False)
    if trunk == 'googlenet':
        _googlenet_classifier(n, top, fc, classes)
    else:
        if fc == 'conv':
            n.fc8 = layers.conv(top, classes, 1)
        else:
            n.fc8 = L.InnerProduct(top, num_output=classes, param=layers.LEARNED)
        n.prob = L.Softmax(n.fc8)
    proto = n.to_proto()
    proto.name = NET_NAMES[trunk] + ('' if fc == 'fc' else '_fcn')
    return proto


def _googlenet_classifier(n, top, fc, classes):
    """BVLC GoogLeNet's average pooling and classifier (loss3/classifier); its FCN form has none:
    the paper discards both (and the auxiliary classifiers, which no deploy net has)."""
    if fc == 'fc':
        n['pool5/7x7_s1'] = L.Pooling(top, pool=caffe.params.Pooling.AVE, kernel_size=GOOGLENET_POOL, stride=1)
        n['loss3/classifier'] = L.InnerProduct(n['pool5/7x7_s1'], num_output=classes, param=layers.LEARNED)
        n.prob = L.Softmax(n['loss3/classifier'])


def classifier(trunk, widths=None, classes=ILSVRC_CLASSES, size=None):
    """The ILSVRC deploy classifier (InnerProduct fc6/fc7/fc8, classifier padding)."""
    _check_trunk(trunk)
    return _build(trunk, 'fc', CLASSIFIER_PAD1[trunk], widths, classes, size)


def convolutionalized(trunk, pad1=FCN_PAD1, widths=None, classes=ILSVRC_CLASSES, size=None):
    """The classifier with fc6/fc7/fc8 as convolutions; pad1=CLASSIFIER_PAD1[trunk] gives the
    exact fully convolutional equivalent of `classifier(trunk)`. GoogLeNet's is its trunk alone."""
    return _build(trunk, 'conv', pad1, widths, classes, size)
