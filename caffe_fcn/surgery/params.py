"""Parameters as plain arrays: read from a caffemodel file, or viewed inside a live caffe.Net.

Surgery reads its sources as `{layer name: [weights, bias, ...]}` so that a snapshot can be read
without the net definition (and the data layers) that wrote it. Raw ILSVRC downloads use Caffe's
old V1 format, which only Caffe's own loader upgrades: those go through `check_caffemodel_fits`
and then `caffe.Net(deploy, weights)` instead.
"""
import os
from collections import OrderedDict

import numpy as np

from caffe_fcn.backend import import_caffe
from caffe_fcn.paths import resolve


class SurgeryError(ValueError):
    """A source and a target that do not fit, or a file that is not what it should be."""


def load_caffemodel(path):
    """The NetParameter stored in a binary .caffemodel, with clear errors for a missing or foreign file."""
    import_caffe()
    from caffe.proto import caffe_pb2
    if not os.path.isfile(path):
        raise SurgeryError('weights file %s does not exist' % path)
    if path.endswith('.h5'):
        raise SurgeryError('%s is an HDF5 snapshot; surgery reads binary .caffemodel files '
                           '(snapshot_format: BINARYPROTO, the solver default)' % path)
    proto = caffe_pb2.NetParameter()
    with open(path, 'rb') as f:
        try:
            proto.ParseFromString(f.read())
        except Exception as err:  # protobuf raises its own DecodeError type per backend
            raise SurgeryError('%s is not a Caffe binary caffemodel (%s)' % (path, err)) from err
    if not proto.layer and not proto.layers:
        raise SurgeryError('%s holds no layers: not a Caffe caffemodel' % path)
    return proto


def _blob_array(blob):
    if blob.HasField('shape'):
        shape = tuple(blob.shape.dim)
    else:  # pre-2015 blobs: 4-D num/channels/height/width
        shape = (blob.num, blob.channels, blob.height, blob.width)
    return np.fromiter(blob.data, dtype=np.float32, count=len(blob.data)).reshape(shape)


def read_caffemodel(path):
    """`{layer name: [arrays]}` for every layer of a current-format caffemodel that has parameters."""
    proto = load_caffemodel(path)
    if proto.layers and not proto.layer:
        raise SurgeryError(
            '%s is in Caffe\'s old V1 layer format (like the ILSVRC downloads): convolutionalise it with '
            '`python -m caffe_fcn.surgery vgg16|alexnet --weights %s`, which loads it through Caffe' % (path, path))
    return OrderedDict((layer.name, [_blob_array(b) for b in layer.blobs]) for layer in proto.layer if layer.blobs)


def blob_counts(path):
    """`{layer name: [element count per blob]}` of any caffemodel (V1 included), without copying data."""
    proto = load_caffemodel(path)
    return OrderedDict((layer.name, [len(b.data) for b in layer.blobs])
                       for layer in list(proto.layer) + list(proto.layers) if layer.blobs)


def net_params(net):
    """`{layer name: [writable arrays]}` of a caffe.Net: views of its blobs, in net order."""
    return OrderedDict((name, [blob.data for blob in blobs]) for name, blobs in net.params.items())


def as_params(source):
    """A caffe.Net, a caffemodel path (relative paths from the repository root) or a `{layer: [arrays]}`
    mapping, as a `{layer: [arrays]}` mapping."""
    if isinstance(source, (str, os.PathLike)):
        return read_caffemodel(resolve(source))
    if hasattr(source, 'params'):
        return net_params(source)
    return source


def layer_types(net):
    """`{layer name: Caffe layer type}` of a caffe.Net."""
    return OrderedDict((name, layer.type) for name, layer in zip(net._layer_names, net.layers))


def check_caffemodel_fits(path, net, where_to_get=''):
    """Refuse, with the layer at fault, a caffemodel whose parameter layers differ from `net`'s.

    Caffe itself aborts the whole process on such a file; this check turns that into an exception.
    Extra layers in the file (e.g. a training net's loss) are fine: Caffe ignores them.
    """
    counts = blob_counts(path)
    hint = ' ' + where_to_get if where_to_get else ''
    for name, blobs in net.params.items():
        if name not in counts:
            raise SurgeryError('%s has no layer %r that the net needs: is it the right model?%s' % (path, name, hint))
        want = [blob.data.size for blob in blobs]
        if counts[name] != want:
            raise SurgeryError('%s: layer %r holds blobs of %s elements, the net expects %s: '
                               'is it the right model?%s' % (path, name, counts[name], want, hint))
