"""Parameters as plain arrays: `{layer name: [weights, bias, ...]}`, as caffe_fcn.backend.weights
reads them from a file, or viewed inside a live caffe.Net.

Surgery works on such mappings so that a snapshot can be used without the net definition (and the
data layers) that wrote it; it never opens a file itself.
"""
from collections import OrderedDict

from caffe_fcn.errors import UserError


class SurgeryError(UserError, ValueError):
    """A source and a target that do not fit."""


def net_params(net):
    """`{layer name: [writable arrays]}` of a caffe.Net: views of its blobs, in net order."""
    return OrderedDict((name, [blob.data for blob in blobs]) for name, blobs in net.params.items())


def as_params(source):
    """A caffe.Net or a `{layer: [arrays]}` mapping, as a `{layer: [arrays]}` mapping."""
    return net_params(source) if hasattr(source, 'params') else source


def layer_types(net):
    """`{layer name: Caffe layer type}` of a caffe.Net."""
    return OrderedDict((name, layer.type) for name, layer in zip(net._layer_names, net.layers))
