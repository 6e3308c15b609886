"""A run's snapshots, and loading any weights file into a net.

Runs snapshot in Caffe's HDF5 format (<prefix>_iter_<N>.caffemodel.h5 / .solverstate.h5). A VGG16
FCN's caffemodel is about 540 MB, and so is its solverstate (the momentum history), while Caffe's
binary protobuf reader is capped: 2 GB upstream, but 512 MB in some builds (the sdist `make setup`
builds, before setup/patch-caffe.sh raises it), where a binary snapshot could never be restored.
HDF5 files have no cap in any build.
"""
import os
import re
from collections import OrderedDict

import h5py

from caffe_fcn.surgery.params import copy_caffemodel

STATE = re.compile(r'_iter_(\d+)\.solverstate(\.h5)?$')


class WeightsError(ValueError):
    pass


def snapshot_states(run_dir):
    """[(iteration, solverstate path)] of a run's snapshots, by iteration."""
    folder = os.path.join(run_dir, 'snapshots')
    found = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = STATE.search(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)


def snapshot_files(prefix, iteration):
    """(caffemodel, solverstate) that Caffe writes for an HDF5 snapshot at `iteration`."""
    stem = '%s_iter_%d' % (prefix, iteration)
    return stem + '.caffemodel.h5', stem + '.solverstate.h5'


def read_hdf5_weights(path):
    """{layer name: [arrays]} of a Caffe HDF5 caffemodel (datasets data/<layer>/<blob index>)."""
    try:
        with h5py.File(path, 'r') as f:
            return OrderedDict((layer, [f['data'][layer][str(i)][...] for i in range(len(f['data'][layer]))])
                               for layer in f['data'] if len(f['data'][layer]))
    except (OSError, KeyError) as err:
        raise WeightsError('%s is not a Caffe HDF5 caffemodel: %s' % (path, err)) from err


def load_weights(net, path, where_to_get=''):
    """Copy a caffemodel (binary of any size, or HDF5 snapshot) into `net`, refusing a file whose
    layers or shapes do not fit the net with an error naming the layer (Caffe would abort)."""
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
