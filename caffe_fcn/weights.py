"""Loading any weights file into a net: binary caffemodels of any size and Caffe HDF5 snapshots,
refusing, with the layer at fault, a file that does not fit (Caffe itself would abort)."""
import os
from collections import OrderedDict

import h5py

from caffe_fcn.surgery.params import copy_caffemodel


class WeightsError(ValueError):
    pass


def read_hdf5_weights(path):
    """{layer name: [arrays]} of a Caffe HDF5 caffemodel (datasets data/<layer>/<blob index>)."""
    try:
        with h5py.File(path, 'r') as f:
            return OrderedDict((layer, [f['data'][layer][str(i)][...] for i in range(len(f['data'][layer]))])
                               for layer in f['data'] if len(f['data'][layer]))
    except (OSError, KeyError) as err:
        raise WeightsError('%s is not a Caffe HDF5 caffemodel: %s' % (path, err)) from err


def load_weights(net, path, where_to_get=''):
    """Copy a caffemodel (binary, or HDF5 when its name ends in .h5) into `net`."""
    if not os.path.isfile(path):
        raise WeightsError('weights file %s does not exist' % path)
    if not path.endswith('.h5'):
        copy_caffemodel(net, path, where_to_get)
        return
    stored = read_hdf5_weights(path)
    for name, blobs in net.params.items():
        shapes = [b.shape for b in stored.get(name, [])]
        if shapes != [b.data.shape for b in blobs]:
            raise WeightsError('%s: layer %r holds blobs of shapes %s, the net expects %s: is it the right model? %s'
                               % (path, name, shapes or 'none', [b.data.shape for b in blobs], where_to_get))
    for name, blobs in net.params.items():
        for blob, array in zip(blobs, stored[name]):
            blob.data[...] = array
