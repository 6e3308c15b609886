"""Where a run keeps what it writes: runs/<variant>/ by default (caffe_fcn.paths.default_run_dir).

  metrics.jsonl            the metrics log (caffe_fcn.train.metrics_log)
  snapshots/               <variant>_iter_<N>.caffemodel.h5 and .solverstate.h5 after every good round
                           (caffe_fcn.train.snapshots writes them whole or not at all)
  predictions/iter_<N>/    the test split's predictions as palette PNGs
  <variant>.caffemodel     the final weights (binary), what the next stage starts from

Snapshots are in Caffe's HDF5 format. A VGG16 FCN's caffemodel is about 540 MB, and so is its
solverstate (the momentum history), while Caffe's binary protobuf reader is capped: 2 GB in BVLC
Caffe, but 512 MB in some Caffe builds users bring, where a binary snapshot could never be restored.
HDF5 files have no cap in any build.
"""
import os
import re

STATE = re.compile(r'_iter_(\d+)\.solverstate(\.h5)?$')


def run_of_state(state):
    """The run folder of a solverstate in its snapshots/ folder (else the solverstate's own folder)."""
    folder = os.path.dirname(os.path.abspath(state))
    return os.path.dirname(folder) if os.path.basename(folder) == 'snapshots' else folder


def snapshot_files(prefix, iteration):
    """(caffemodel, solverstate) that Caffe writes for an HDF5 snapshot at `iteration`."""
    stem = '%s_iter_%d' % (prefix, iteration)
    return stem + '.caffemodel.h5', stem + '.solverstate.h5'


def snapshot_states(run_dir):
    """[(iteration, solverstate path)] of a run's snapshots, by iteration."""
    folder = os.path.join(run_dir, 'snapshots')
    found = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = STATE.search(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)
