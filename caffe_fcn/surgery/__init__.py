"""Net surgery: ILSVRC classifiers become fully convolutional nets, and each FCN stage starts from the last.

Everything here works on nets and parameters in memory and opens no file: weights files are read,
checked, loaded and saved by caffe_fcn.backend.weights (the CLI, the solve driver and the demo do).

Operations (a source `net` may be a caffe.Net or a {layer: [arrays]} mapping):
    transplant(new_net, net, suffix='') -> SurgeryReport  copy parameters by layer name (+suffix); an
                                                          InnerProduct weight becomes a Convolution weight
    upsample_filt(size), interp(net, layers=None)         bilinear kernels into Deconvolution layers (by type)
    expand_score(new_net, new_layer, net, layer)          k old classes into the first k outputs of a wider score
    add_depth_channel(new_net, new_layer, net, layer)     RGB filters + their mean as the depth channel

Starting weights (what the solve driver calls; every init ends with interp of all deconvolutions):
    convolutionalize(trunk, classifier) -> (twin, report) an ILSVRC classifier net -> its convolutionalized twin
    init_variant(variant, net, sources)                   dispatch on variant.init.kind, one source per init source:
        init_from_ilsvrc(net, fcn_params)                     'ilsvrc', 'ilsvrc-depth' (conv1_1_bgrd derived)
        init_from_stage(net, params)                          'stage': 32s -> 16s -> 8s, new score layers zero
        init_streams(net, {suffix: params})                   'streams': NYUD color-HHA

CLI: python -m caffe_fcn.surgery vgg16|alexnet|googlenet|init VARIANT (see its --help).
"""
from caffe_fcn.surgery.bilinear import deconvolution_layers, interp, upsample_filt
from caffe_fcn.surgery.convolutionalize import convolutionalize
from caffe_fcn.surgery.params import SurgeryError
from caffe_fcn.surgery.stages import init_from_ilsvrc, init_from_stage, init_streams, init_variant
from caffe_fcn.surgery.transplant import SurgeryReport, add_depth_channel, expand_score, transplant

__all__ = ['SurgeryError', 'SurgeryReport', 'add_depth_channel', 'convolutionalize', 'deconvolution_layers',
           'expand_score', 'init_from_ilsvrc', 'init_from_stage', 'init_streams', 'init_variant', 'interp',
           'transplant', 'upsample_filt']
