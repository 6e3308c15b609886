"""ILSVRC classifier weights -> the fully convolutional weights every FCN trunk starts from.

The downloaded caffemodel (old V1 format for VGG16) is loaded into our generated ILSVRC deploy
classifier (`caffe_fcn.nets.ilsvrc.classifier`) by layer name, then transplanted into its
convolutionalised twin: fc6/fc7/fc8 keep their numbers, now as convolution kernels
(VGG16 fc6: 4096 x 25088 -> 4096 x 512 x 7 x 7).
"""
import os

from caffe_fcn.backend import net_from_proto
from caffe_fcn.backend.weights import check_writable, load_weights, save_weights
from caffe_fcn.data.sources import WEIGHTS
from caffe_fcn.nets import ilsvrc
from caffe_fcn.paths import resolve
from caffe_fcn.surgery.params import SurgeryError
from caffe_fcn.surgery.transplant import transplant

FCN_WEIGHTS = {'vgg16': 'weights/vgg16-fcn.caffemodel', 'alexnet': 'weights/alexnet-fcn.caffemodel'}


def where_to_get(trunk):
    source = WEIGHTS[trunk]
    return 'Get it with `make weights-%s`, or download %s into %s.' % (
        trunk, source.url, os.path.dirname(resolve(source.download_to)))


def convolutionalize(trunk, weights=None, out=None, widths=None, classes=ilsvrc.ILSVRC_CLASSES):
    """Write the convolutionalised `trunk` ('vgg16' or 'alexnet') caffemodel to `out` from the ILSVRC
    caffemodel `weights` (defaults: the `make weights-<trunk>` download -> FCN_WEIGHTS[trunk]).
    `widths` and `classes` build a narrow twin pair with another fc8 (tests, the demo). Returns the report."""
    if trunk not in FCN_WEIGHTS:
        raise SurgeryError('unknown trunk %r; choose one of %s' % (trunk, ', '.join(sorted(FCN_WEIGHTS))))
    weights = resolve(weights or WEIGHTS[trunk].download_to)
    out = resolve(out or FCN_WEIGHTS[trunk])
    check_writable(out)
    classifier = net_from_proto(ilsvrc.classifier(trunk, widths=widths, classes=classes))
    load_weights(classifier, weights, where_to_get(trunk))
    twin = net_from_proto(ilsvrc.convolutionalised(trunk, widths=widths, classes=classes))
    report = transplant(twin, classifier)
    save_weights(twin, out)
    return report
