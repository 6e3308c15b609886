"""Copying parameters between nets by layer name: the fc -> conv move, wider score layers, depth filters."""
from dataclasses import dataclass, field

import numpy as np

from caffe_fcn.surgery.params import SurgeryError, as_params, net_params

BLOB_ROLES = ('weights', 'bias')


def _blob_name(index):
    return BLOB_ROLES[index] if index < len(BLOB_ROLES) else 'blob %d' % index


def _fc_into_conv(source_shape, target_shape):
    """An InnerProduct weight O x (C*H*W) holds a Convolution weight O x C x H x W in the same order."""
    return (len(source_shape) == 2 and len(target_shape) == 4 and source_shape[0] == target_shape[0]
            and source_shape[1] == int(np.prod(target_shape[1:])))


@dataclass
class SurgeryReport:
    """What surgery did to a net, by layer name.

    copied / reshaped: target layers filled from the source (reshaped: an InnerProduct weight became
    a Convolution weight); derived: target layers computed from a source layer of another name
    (conv1_1_bgrd from conv1_1); interpolated: Deconvolutions given bilinear kernels; dropped:
    source layers with no target; untouched: target layers with parameters that received nothing
    and keep their initialisation (new score layers at zero).
    """
    copied: list = field(default_factory=list)
    reshaped: list = field(default_factory=list)
    derived: list = field(default_factory=list)
    interpolated: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    untouched: list = field(default_factory=list)

    def record(self, kind, names):
        """Move target layers `names` into list `kind` ('derived' or 'interpolated'), from wherever they were."""
        for name in names:
            for listed in (self.copied, self.reshaped, self.untouched):
                if name in listed:
                    listed.remove(name)
            getattr(self, kind).append(name)

    def __str__(self):
        kinds = ['copied', 'reshaped', 'derived', 'interpolated', 'dropped', 'untouched']
        return '\n'.join('%-13s %s' % (kind + ':', ' '.join(getattr(self, kind)) or '-') for kind in kinds)


def transplant(new_net, net, suffix=''):
    """Copy every parameter blob of `net` into the layer of the same name + `suffix` in `new_net`.

    `net` is a caffe.Net or a `{layer: [arrays]}` mapping. Blobs must have equal
    shapes, except an InnerProduct weight going into a Convolution weight with the same element
    count; anything else is an error naming the layer and both shapes, raised before anything is copied.
    """
    source = as_params(net)
    target = net_params(new_net)
    report = SurgeryReport()
    copies = []
    for name, blobs in source.items():
        target_name = name + suffix
        if target_name not in target:
            report.dropped.append(name)
            continue
        target_blobs = target[target_name]
        if len(blobs) != len(target_blobs):
            raise SurgeryError(
                'transplant: layer %r has %d parameter blobs in the source but %r has %d in the target '
                '(does one of them lack a bias term?)' % (name, len(blobs), target_name, len(target_blobs)))
        reshaped = False
        for index, (blob, target_blob) in enumerate(zip(blobs, target_blobs)):
            if blob.shape != target_blob.shape:
                if not _fc_into_conv(blob.shape, target_blob.shape):
                    raise SurgeryError(
                        'transplant: %s of layer %r: source shape %s does not fit target %r shape %s; only an '
                        'InnerProduct weight O x (C*H*W) may become a Convolution weight O x C x H x W. Are the '
                        'two nets the same trunk with the same widths?'
                        % (_blob_name(index), name, tuple(blob.shape), target_name, tuple(target_blob.shape)))
                reshaped = True
            copies.append((target_blob, blob))
        (report.reshaped if reshaped else report.copied).append(target_name)
    for target_blob, blob in copies:
        target_blob[...] = blob.reshape(target_blob.shape)
    filled = set(report.copied) | set(report.reshaped)
    report.untouched = [name for name in target if name not in filled]
    return report


def _weights_and_bias(params, layer, where):
    if layer not in params:
        raise SurgeryError('%s net has no parameter layer %r' % (where, layer))
    blobs = params[layer]
    if len(blobs) != 2:
        raise SurgeryError('%s layer %r has %d parameter blobs; weights and bias expected' % (where, layer, len(blobs)))
    return blobs


def expand_score(new_net, new_layer, net, layer):
    """Copy the k classes of score layer `layer` of `net` into the first k outputs of `new_layer`.

    The other outputs of `new_layer` keep their values. Weights are outputs x inputs x kh x kw,
    biases 1-D (one per output).
    """
    weights, bias = _weights_and_bias(as_params(net), layer, 'source')
    new_weights, new_bias = _weights_and_bias(net_params(new_net), new_layer, 'target')
    classes = weights.shape[0]
    if new_weights.shape[0] < classes or new_weights.shape[1:] != weights.shape[1:]:
        raise SurgeryError('expand_score: %r weights %s do not fit the first outputs of %r weights %s'
                           % (layer, tuple(weights.shape), new_layer, tuple(new_weights.shape)))
    if bias.shape != (classes,) or new_bias.shape != (new_weights.shape[0],):
        raise SurgeryError('expand_score: biases must be 1-D, one per output; %r has %s, %r has %s'
                           % (layer, tuple(bias.shape), new_layer, tuple(new_bias.shape)))
    new_weights[:classes] = weights
    new_bias[:classes] = bias


def add_depth_channel(new_net, new_layer, net, layer):
    """Fill `new_layer` (O x C+1 x k x k) from `layer` (O x C x k x k): the C colour filters as they are,
    the extra (depth) input channel with their mean over the C input channels; the bias as it is.

    This is how NYUD color-d's conv1_1_bgrd starts from VGG16's conv1_1.
    """
    weights, bias = _weights_and_bias(as_params(net), layer, 'source')
    new_weights, new_bias = _weights_and_bias(net_params(new_net), new_layer, 'target')
    out, channels = weights.shape[:2]
    if new_weights.shape != (out, channels + 1) + weights.shape[2:] or new_bias.shape != bias.shape:
        raise SurgeryError('add_depth_channel: %r (weights %s) must have exactly one input channel more than %r '
                           '(weights %s)' % (new_layer, tuple(new_weights.shape), layer, tuple(weights.shape)))
    new_weights[:, :channels] = weights
    new_weights[:, channels] = weights.mean(axis=1)
    new_bias[...] = bias
