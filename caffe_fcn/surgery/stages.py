"""Starting weights for each variant, by its registry `init` (see caffe_fcn.nets.registry), from
parameters in memory (a caffe.Net or `{layer: [arrays]}`; the caller reads the files):

  ilsvrc        init_from_ilsvrc(net, convolutionalized ILSVRC)   the 32s nets, at-once 8s, FCN-AlexNet
  ilsvrc-depth  the same; conv1_1_bgrd = conv1_1's RGB filters + their mean as the depth channel
  stage         init_from_stage(net, trained source)             32s -> 16s -> 8s; new score layers stay zero
  streams       init_streams(net, {suffix: trained source})      NYUD color-HHA: one suffixed stream each

Every init ends by filling all Deconvolution layers with bilinear kernels. `init_variant` dispatches.
"""
from caffe_fcn.surgery.bilinear import interp
from caffe_fcn.surgery.params import SurgeryError, as_params
from caffe_fcn.surgery.transplant import SurgeryReport, add_depth_channel, transplant

DEPTH_LAYERS = {'conv1_1_bgrd': 'conv1_1'}  # early-fusion first layer -> its ILSVRC source layer


def _finish(net, report):
    report.record('interpolated', interp(net))
    return report


def init_from_ilsvrc(net, fcn_params):
    """Transplant convolutionalized ILSVRC parameters (of vgg16-fcn, alexnet-fcn, googlenet-fcn) into `net`;
    a depth-fused first layer (conv1_1_bgrd) is derived from conv1_1."""
    source = as_params(fcn_params)
    report = transplant(net, source)
    for layer, source_layer in DEPTH_LAYERS.items():
        if layer in net.params:
            add_depth_channel(net, layer, source, source_layer)
            report.record('derived', [layer])
    return _finish(net, report)


def init_from_stage(net, params):
    """Transplant the previous stage's trained parameters (a caffe.Net or mapping) into `net`."""
    return _finish(net, transplant(net, params))


def init_streams(net, streams):
    """Transplant each single-stream model into the layers carrying its suffix: `streams` maps
    suffix -> its parameters (a caffe.Net or mapping). Dropped layers are listed as 'suffix:layer'."""
    report = SurgeryReport()
    for suffix, params in streams.items():
        part = transplant(net, params, suffix)
        report.copied += part.copied
        report.reshaped += part.reshaped
        report.dropped += ['%s:%s' % (suffix, name) for name in part.dropped]
    filled = set(report.copied) | set(report.reshaped)
    report.untouched = [name for name in net.params if name not in filled]
    return _finish(net, report)


def init_variant(variant, net, sources):
    """Initialise `net` (any net of `variant`) as `variant.init` says, from `sources`: the parameters
    of each of `variant.init.sources`, in order (what `variant.init.weights_files()` hold, or the
    files given instead)."""
    init = variant.init
    sources = list(sources)
    if len(sources) != len(init.sources):
        if init.kind == 'streams':
            raise SurgeryError('%s starts from %d trained single-stream models (%s, in this order); got %d '
                               'weights files' % (variant.name, len(init.sources), ', '.join(init.sources), len(sources)))
        raise SurgeryError('%s starts from %s%s weights, one caffemodel (--weights); got %d'
                           % (variant.name, 'trained ' if init.upstream else '', init.sources[0], len(sources)))
    if init.kind in ('ilsvrc', 'ilsvrc-depth'):
        return init_from_ilsvrc(net, sources[0])
    if init.kind == 'stage':
        return init_from_stage(net, sources[0])
    if init.kind == 'streams':
        return init_streams(net, dict(zip((top.name for top in variant.inputs), sources)))
    raise SurgeryError('variant %s: unknown init kind %r' % (variant.name, init.kind))
