"""Starting weights for each variant, by its registry `init` (see caffe_fcn.nets.registry):

  ilsvrc        init_from_ilsvrc(net, weights/vgg16-fcn.caffemodel)   the 32s nets, at-once 8s, FCN-AlexNet
  ilsvrc-depth  the same; conv1_1_bgrd = conv1_1's RGB filters + their mean as the depth channel
  stage         init_from_stage(net, trained source caffemodel)      32s -> 16s -> 8s; new score layers stay zero
  streams       init_streams(net, {suffix: trained caffemodel})      NYUD color-HHA: one suffixed stream each

Every init ends by filling all Deconvolution layers with bilinear kernels. `init_variant` dispatches.
"""
import os

from caffe_fcn.paths import resolve
from caffe_fcn.surgery.bilinear import interp
from caffe_fcn.surgery.params import SurgeryError, as_params
from caffe_fcn.surgery.transplant import SurgeryReport, add_depth_channel, transplant

DEPTH_LAYERS = {'conv1_1_bgrd': 'conv1_1'}  # early-fusion first layer -> its ILSVRC source layer


def _finish(net, report):
    report.record('interpolated', interp(net))
    return report


def init_from_ilsvrc(net, fcn_weights):
    """Transplant a convolutionalised ILSVRC caffemodel (vgg16-fcn, alexnet-fcn, googlenet-fcn) into
    `net`; a depth-fused first layer (conv1_1_bgrd) is derived from conv1_1."""
    if isinstance(fcn_weights, (str, os.PathLike)) and not os.path.isfile(resolve(fcn_weights)):
        raise SurgeryError('%s does not exist: write it from the ILSVRC weights with `make vgg16-fcn`, '
                           '`make alexnet-fcn` or `make googlenet-fcn` (python -m caffe_fcn.surgery '
                           'vgg16|alexnet|googlenet)' % resolve(fcn_weights))
    source = as_params(fcn_weights)
    report = transplant(net, source)
    for layer, source_layer in DEPTH_LAYERS.items():
        if layer in net.params:
            add_depth_channel(net, layer, source, source_layer)
            report.record('derived', [layer])
    return _finish(net, report)


def init_from_stage(net, weights):
    """Transplant the previous stage's trained weights (a caffemodel path, caffe.Net or mapping) into `net`."""
    return _finish(net, transplant(net, weights))


def init_streams(net, streams):
    """Transplant each single-stream model into the layers carrying its suffix: `streams` maps
    suffix -> caffemodel path (or net or mapping). Dropped layers are listed as 'suffix:layer'."""
    report = SurgeryReport()
    for suffix, weights in streams.items():
        part = transplant(net, weights, suffix)
        report.copied += part.copied
        report.reshaped += part.reshaped
        report.dropped += ['%s:%s' % (suffix, name) for name in part.dropped]
    filled = set(report.copied) | set(report.reshaped)
    report.untouched = [name for name in net.params if name not in filled]
    return _finish(net, report)


def init_variant(variant, net, weights=None):
    """Initialise `net` (any net of `variant`) as `variant.init` says.

    weights: for 'ilsvrc'/'ilsvrc-depth', the convolutionalised ILSVRC caffemodel (default
    weights/<init.source>.caffemodel); for 'stage', the trained source variant's caffemodel; for
    'streams', a list of trained caffemodels, one per source variant in the order of `init.source`.
    A list of one stands for its single item.
    """
    kind, source = variant.init.kind, variant.init.source
    given = list(weights) if isinstance(weights, (list, tuple)) else [] if weights is None else [weights]
    if kind == 'streams':
        if len(given) != len(source):
            raise SurgeryError('%s starts from %d trained single-stream models (%s, in this order); got %d '
                               'weights files' % (variant.name, len(source), ', '.join(source), len(given)))
        return init_streams(net, dict(zip((top.name for top in variant.inputs), given)))
    if len(given) > 1:
        raise SurgeryError('%s starts from one caffemodel (%s); got %d' % (variant.name, source, len(given)))
    if kind in ('ilsvrc', 'ilsvrc-depth'):
        return init_from_ilsvrc(net, given[0] if given else 'weights/%s.caffemodel' % source)
    if kind == 'stage':
        if not given:
            raise SurgeryError('%s starts from trained %s weights: pass the path of its caffemodel (--weights)'
                               % (variant.name, source))
        return init_from_stage(net, given[0])
    raise SurgeryError('variant %s: unknown init kind %r' % (variant.name, kind))
