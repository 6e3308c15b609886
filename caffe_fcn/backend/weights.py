"""Weights files, the one module that opens them: read, check against a net, load, save.

Formats: Caffe's binary caffemodel (a NetParameter; current layers, or the old V1 `layers` of the
ILSVRC downloads) of any size, and Caffe's HDF5 snapshots (datasets data/<layer>/<blob index>),
told apart by the HDF5 signature, not the file name. Everything is read in Python, so a file that
does not fit a net is an error naming the file, the layer and both shapes (Caffe's own loader
aborts the whole process instead). Saving goes through a temporary name and never replaces a file.
"""
import os
from collections import OrderedDict

import h5py
import numpy as np

from caffe_fcn import atomic
from caffe_fcn.backend import import_caffe, net_from_proto
from caffe_fcn.errors import OutputExists, UserError

HDF5_SIGNATURE = b'\x89HDF\r\n\x1a\n'
BLOB_DATA_FIELD = 5  # caffe.proto: `repeated float data = 5 [packed = true];`


class WeightsError(UserError, ValueError):
    """A weights file that is missing, unreadable, or does not fit the net it is meant for."""


def read_weights(path, hint=''):
    """`{layer name: [arrays]}` of every layer with parameters in a current-format caffemodel or an
    HDF5 snapshot (`hint` ends a missing file's error: where it comes from). V1 files need a net to
    give their legacy 4-D blobs a shape: use `load_weights`."""
    stored = _stored(path, hint, v1=False)
    return OrderedDict((name, [array for array, _ in blobs]) for name, blobs in stored.items())


def load_weights(net, path, hint='', extra_layers=True):
    """Copy a weights file of any format into `net`, after checking that every layer fits (`hint`
    ends each error: where the right file comes from). Layers of the file that `net` lacks are ignored,
    as Caffe does, when `extra_layers`; otherwise they are an error (weights of another variant)."""
    stored = _stored(path, hint)
    _check_fits(path, stored, net, hint, extra_layers)
    for name, blobs in net.params.items():
        for (array, _), target in zip(stored[name], blobs):
            target.data[...] = array.reshape(target.data.shape)


def net_with_weights(proto, path, hint='', extra_layers=True):
    """A TEST-phase caffe.Net of the NetParameter `proto` holding the weights file `path` (see load_weights)."""
    net = net_from_proto(proto)
    load_weights(net, path, hint, extra_layers)
    return net


def check_weights_fit(path, net, hint=''):
    """Refuse, with the file and layer at fault, a weights file that would not load into `net`
    (the caffemodel a solverstate names is checked so before Caffe loads it)."""
    _check_fits(path, _stored(path, hint), net, hint)


def layer_names(path):
    """The names of the layers with parameters in a weights file of any format (V1 included)."""
    return list(_stored(path))


def check_writable(path):
    """Refuse, before any long work, an output that is there already or whose folder cannot be written."""
    if os.path.exists(path):
        raise OutputExists('%s already exists; not replacing it: move it away or choose another --out' % path)
    atomic.check_folder(os.path.dirname(os.path.abspath(path)), '--out')


def parameter_bytes(net):
    """The bytes of `net`'s parameters as float32: about the size of its caffemodel."""
    return 4 * sum(blob.data.size for blobs in net.params.values() for blob in blobs)


def save_weights(net, path):
    """Write `net`'s parameters as a binary caffemodel at `path` (folders made as needed), through a
    temporary name (caffe_fcn.atomic) so that a crash never leaves half a file there; never over an
    existing file. Returns `path`."""
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    atomic.require_space(folder, parameter_bytes(net), 'the caffemodel %s' % path)
    with atomic.writing(path) as temp:
        net.save(temp)
    return path


def _stored(path, hint='', v1=True):
    """The layers of a weights file that have parameters: {name: [(array, legacy 4-D shape?)]}.
    v1=False refuses the old V1 format, whose legacy blob shapes only make sense against a net."""
    try:
        with open(path, 'rb') as f:
            is_hdf5 = f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except (FileNotFoundError, IsADirectoryError) as err:
        raise WeightsError('weights file %s does not exist%s' % (path, ': ' + hint if hint else '')) from err
    return _read_hdf5(path) if is_hdf5 else _read_binary(path, v1)


def _read_hdf5(path):
    try:
        with h5py.File(path, 'r') as f:
            data = f['data']
            return OrderedDict((layer, [(data[layer][str(i)][...], False) for i in range(len(data[layer]))])
                               for layer in data if len(data[layer]))
    except (OSError, KeyError) as err:
        raise WeightsError('%s is not a Caffe HDF5 caffemodel: %s' % (path, err)) from err


def _read_binary(path, v1):
    caffe_pb2 = import_caffe().proto.caffe_pb2
    proto = caffe_pb2.NetParameter()
    with open(path, 'rb') as f:
        try:
            proto.ParseFromString(f.read())
        except Exception as err:  # protobuf raises its own DecodeError type per backend
            raise WeightsError('%s is not a Caffe binary caffemodel (%s)' % (path, err)) from err
    if not proto.layer and not proto.layers:
        raise WeightsError('%s holds no layers: not a Caffe caffemodel' % path)
    if proto.layers and not proto.layer and not v1:
        raise WeightsError(
            '%s is in Caffe\'s old V1 layer format (like the ILSVRC downloads): convolutionalize it with '
            '`python -m caffe_fcn.surgery vgg16|alexnet|googlenet --weights %s`, which loads it through Caffe' % (path, path))
    return OrderedDict((layer.name, [(_blob_array(b), not b.HasField('shape')) for b in layer.blobs])
                       for layer in list(proto.layer) + list(proto.layers) if layer.blobs)


def _check_fits(path, stored, net, hint, extra_layers=True):
    hint = ' ' + hint if hint else ''
    extra = [name for name in stored if name not in net.params]
    if extra and not extra_layers:
        raise WeightsError('%s holds layers with parameters that the net lacks (%s): weights of another variant, '
                           'whose result would differ from that variant\'s; pass its own weights, or '
                           '--allow-extra-layers to ignore those layers%s' % (path, ', '.join(extra), hint))
    for name, blobs in net.params.items():
        if name not in stored:
            raise WeightsError('%s has no layer %r that the net needs: is it the right model?%s' % (path, name, hint))
        sources = stored[name]
        if len(sources) != len(blobs) or not all(_fits(array, legacy, target.data.shape)
                                                 for (array, legacy), target in zip(sources, blobs)):
            raise WeightsError('%s: layer %r holds blobs of shapes %s, the net expects %s: is it the right model?%s'
                               % (path, name, [array.shape for array, _ in sources],
                                  [target.data.shape for target in blobs], hint))


def _fits(array, legacy, shape):
    """Caffe's rule for loading a stored blob: the same shape, or, for a pre-2015 blob, the same
    4-D num/channels/height/width as the target shape padded with leading 1s."""
    if not legacy:
        return array.shape == shape
    return len(shape) <= 4 and array.shape == (1,) * (4 - len(shape)) + shape


def _blob_array(blob):
    if blob.HasField('shape'):
        shape = tuple(blob.shape.dim)
    else:  # pre-2015 blobs: 4-D num/channels/height/width
        shape = (blob.num, blob.channels, blob.height, blob.width)
    return _packed_data(blob).reshape(shape)


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
            raise WeightsError('unexpected protobuf wire type %d in a Caffe BlobProto' % wire_type)
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
