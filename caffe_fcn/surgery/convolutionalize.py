"""ILSVRC classifier weights -> the fully convolutional weights every FCN trunk starts from.

The downloaded caffemodel is loaded by Caffe into our generated ILSVRC deploy classifier
(`caffe_fcn.nets.ilsvrc.classifier`, which also upgrades the old V1 file format), then
transplanted into its convolutionalised twin: fc6/fc7/fc8 keep their numbers, now as
convolution kernels (VGG16 fc6: 4096 x 25088 -> 4096 x 512 x 7 x 7).
"""
import os
from collections import namedtuple

from caffe_fcn.nets import ilsvrc
from caffe_fcn.paths import resolve
from caffe_fcn.surgery.netio import check_writable, load_net, save_caffemodel
from caffe_fcn.surgery.params import SurgeryError, check_caffemodel_fits
from caffe_fcn.surgery.transplant import transplant

IlsvrcWeights = namedtuple('IlsvrcWeights', 'download fcn make_target url')

ILSVRC_WEIGHTS = {
    'vgg16': IlsvrcWeights('weights/VGG_ILSVRC_16_layers.caffemodel', 'weights/vgg16-fcn.caffemodel', 'weights-vgg16',
                           'http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel'),
    'alexnet': IlsvrcWeights('weights/bvlc_alexnet.caffemodel', 'weights/alexnet-fcn.caffemodel', 'weights-alexnet',
                             'http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel'),
}


def where_to_get(trunk):
    known = ILSVRC_WEIGHTS[trunk]
    return 'Get it with `make %s`, or download %s into %s.' % (known.make_target, known.url,
                                                               os.path.dirname(resolve(known.download)))


def convolutionalize(trunk, weights=None, out=None, overwrite=False, widths=None):
    """Write the convolutionalised `trunk` ('vgg16' or 'alexnet') caffemodel to `out` from the ILSVRC
    caffemodel `weights` (defaults: weights/<download> -> weights/<trunk>-fcn.caffemodel). `widths`
    builds a narrow twin pair (tests, demos). Returns the report."""
    if trunk not in ILSVRC_WEIGHTS:
        raise SurgeryError('unknown trunk %r; choose one of %s' % (trunk, ', '.join(sorted(ILSVRC_WEIGHTS))))
    weights = resolve(weights or ILSVRC_WEIGHTS[trunk].download)
    out = resolve(out or ILSVRC_WEIGHTS[trunk].fcn)
    if not os.path.isfile(weights):
        raise SurgeryError('the %s ILSVRC weights %s do not exist. %s' % (trunk, weights, where_to_get(trunk)))
    check_writable(out, overwrite)
    classifier = load_net(ilsvrc.classifier(trunk, widths=widths))
    check_caffemodel_fits(weights, classifier, where_to_get(trunk))
    classifier.copy_from(weights)
    twin = load_net(ilsvrc.convolutionalised(trunk, widths=widths))
    report = transplant(twin, classifier)
    save_caffemodel(twin, out, overwrite)
    return report
