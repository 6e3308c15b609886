"""Parameters as plain arrays: read from a caffemodel file, or viewed inside a live caffe.Net.

Surgery reads its sources as `{layer name: [weights, bias, ...]}` so that a snapshot can be read
without the net definition (and the data layers) that wrote it. Raw ILSVRC downloads use Caffe's
old V1 format, whose 4-D legacy blob shapes only make sense against a net: `copy_caffemodel`
loads them into the generated ILSVRC classifier by Caffe's own rules.
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
    return _packed_data(blob).reshape(shape)


BLOB_DATA_FIELD = 5  # caffe.proto: `repeated float data = 5 [packed = true];`


def _packed_data(blob):
    """`blob.data` as float32, read from the blob's wire bytes: caffe.proto declares it packed, so it is
    serialized as one length-delimited run of little-endian floats. (Going through the repeated field
    makes a Python float per element: 14 s for VGG16's fc6 instead of 0.5 s.)"""
    raw = blob.SerializeToString()
    pos = 0
    while pos < len(raw):
        key, pos = _varint(raw, pos)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, pos = _varint(raw, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            length, pos = _varint(raw, pos)
            if field == BLOB_DATA_FIELD:
                return np.frombuffer(raw, dtype='<f4', count=length // 4, offset=pos)
            pos += length
        else:
            raise SurgeryError('unexpected protobuf wire type %d in a Caffe BlobProto' % wire_type)
    return np.zeros(0, dtype=np.float32)


def _varint(raw, pos):
    value = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7f) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def read_caffemodel(path):
    """`{layer name: [arrays]}` for every layer of a current-format caffemodel that has parameters."""
    proto = load_caffemodel(path)
    if proto.layers and not proto.layer:
        raise SurgeryError(
            '%s is in Caffe\'s old V1 layer format (like the ILSVRC downloads): convolutionalise it with '
            '`python -m caffe_fcn.surgery vgg16|alexnet --weights %s`, which loads it through Caffe' % (path, path))
    return OrderedDict((layer.name, [_blob_array(b) for b in layer.blobs]) for layer in proto.layer if layer.blobs)


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


def _fits(blob, shape):
    """Caffe's rule for loading a stored blob: the same shape, or, for a pre-2015 blob, the same
    4-D num/channels/height/width as the target shape padded with leading 1s."""
    if blob.HasField('shape'):
        return tuple(blob.shape.dim) == shape
    return len(shape) <= 4 and (blob.num, blob.channels, blob.height, blob.width) == (1,) * (4 - len(shape)) + shape


def check_caffemodel_fits(path, net, where_to_get=''):
    """Refuse, with the file and layer at fault, a caffemodel that Caffe's `net.copy_from` would not
    load into `net` (Caffe aborts the whole process instead). Returns the file's layers by name.

    A layer the net needs but the file lacks, or a blob of another shape, is an error; extra
    layers in the file (a training net's loss, fc8 of a classifier) are ignored, as Caffe does.
    """
    stored = load_caffemodel(path)
    stored = {layer.name: layer for layer in list(stored.layer) + list(stored.layers) if layer.blobs}
    hint = ' ' + where_to_get if where_to_get else ''
    for name, blobs in net.params.items():
        if name not in stored:
            raise SurgeryError('%s has no layer %r that the net needs: is it the right model?%s' % (path, name, hint))
        sources = stored[name].blobs
        if len(sources) != len(blobs) or not all(_fits(b, t.data.shape) for b, t in zip(sources, blobs)):
            raise SurgeryError('%s: layer %r holds blobs of shapes %s, the net expects %s: is it the right model?%s'
                               % (path, name, [_blob_array(b).shape for b in sources],
                                  [t.data.shape for t in blobs], hint))
    return stored


def copy_caffemodel(net, path, where_to_get=''):
    """`net.copy_from(path)` done in Python, after `check_caffemodel_fits`: any format (V1 included), and a
    file that does not fit the net is an error naming the layer, where Caffe would abort the process."""
    stored = check_caffemodel_fits(path, net, where_to_get)
    for name, blobs in net.params.items():
        for blob, target in zip(stored[name].blobs, blobs):
            target.data[...] = _blob_array(blob).reshape(target.data.shape)
