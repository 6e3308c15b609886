"""A run's snapshots: their names, taken whole or not at all, checked before Caffe restores one,
pruned on request.

Snapshots are in Caffe's HDF5 format. A VGG16 FCN's caffemodel is about 540 MB, and so is its
solverstate (the momentum history), while Caffe's binary protobuf reader is capped: 2 GB in BVLC
Caffe, but 512 MB in some Caffe builds users bring, where a binary snapshot could never be restored.
HDF5 files have no cap in any build.

Caffe writes a snapshot itself (<variant>_iter_<N>.caffemodel.h5 and .solverstate.h5), and aborts the
process when a write fails. So the driver checks the free space first, lets Caffe write into a hidden
temporary folder inside snapshots/, reads both files back, and renames the caffemodel, then the
solverstate, into snapshots/: a snapshot counts (snapshot_states) once its solverstate is
there, and a kill at any moment leaves at most a temporary folder, removed by the next snapshot.

A solverstate names the caffemodel that Caffe loads with it (its `learned_net`), by the path Caffe was
given. The driver snapshots from inside the temporary folder with a bare file name, so the name is the
caffemodel beside the solverstate, wherever the run folder moves; `restore` runs from that folder.

Caffe restores a solverstate without checking it against the net and aborts on any mismatch, so
`check_state` reads it first: an HDF5 solverstate, one history blob per learnable blob (two for Adam
and AdaDelta) of the net's shapes, and a caffemodel that fits the net.
"""
import os
import re
from contextlib import contextmanager

import h5py

from caffe_fcn import atomic
from caffe_fcn.backend.weights import HDF5_SIGNATURE, WeightsError, check_weights_fit, parameter_bytes
from caffe_fcn.errors import UserError

STATE = re.compile(r'_iter_(\d+)\.solverstate(\.h5)?$')
#: History blobs per learnable blob that each Caffe solver type keeps in its solverstate.
HISTORY_PER_PARAM = {'SGD': 1, 'Nesterov': 1, 'AdaGrad': 1, 'RMSProp': 1, 'Adam': 2, 'AdaDelta': 2}


class SolverStateError(UserError, ValueError):
    pass


def snapshot_files(prefix, iteration):
    """(caffemodel, solverstate) that Caffe writes for an HDF5 snapshot at `iteration`."""
    stem = '%s_iter_%d' % (prefix, iteration)
    return stem + '.caffemodel.h5', stem + '.solverstate.h5'


def snapshot_states(run_dir):
    """[(iteration, solverstate path)] of a run's complete snapshots (in its snapshots/), by iteration."""
    folder = os.path.join(run_dir, 'snapshots')
    found = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = STATE.search(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)


def run_of_state(state):
    """The run folder of a solverstate in its snapshots/ folder (else the solverstate's own folder)."""
    folder = os.path.dirname(os.path.abspath(state))
    return os.path.dirname(folder) if os.path.basename(folder) == 'snapshots' else folder


@contextmanager
def working_directory(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def history_per_param(settings):
    """History blobs per learnable blob for a SolverParameter (its `type`, SGD by default)."""
    return HISTORY_PER_PARAM.get(settings.type or 'SGD', 1)


def learnable_shapes(net):
    """Shapes of the net's learnable blobs, in Caffe's order (layers in order, blobs in order)."""
    return [tuple(blob.data.shape) for blobs in net.params.values() for blob in blobs]


def take(solver, folder, name, per_param, then):
    """Snapshot `solver` (whose snapshot_prefix is the bare `name`) into `folder`, whole or not at all;
    returns (caffemodel, solverstate). A caffemodel at that iteration without its solverstate (a kill
    between the two renames) is replaced; a complete snapshot is never. `then`: how to go on when the
    disk lacks the room."""
    model, state = snapshot_files(os.path.join(folder, name), solver.iter)
    if os.path.exists(state):
        raise SolverStateError('%s already exists; not overwriting a snapshot' % state)
    for leftover in atomic.leftovers(folder):
        atomic.remove(leftover)
    size = parameter_bytes(solver.net) * (1 + per_param)
    atomic.require_space(folder, size, 'the snapshot at iteration %d' % solver.iter, then)
    temp = atomic.temporary_beside(os.path.join(folder, name), folder=True)
    try:
        with working_directory(temp):
            solver.snapshot()
        written = snapshot_files(os.path.join(temp, name), solver.iter)
        _check_written(written, solver, per_param)
        atomic.rename_into_place(written[0], model, replace=True)
        atomic.rename_into_place(written[1], state)
    finally:
        atomic.remove(temp)
    return model, state


def _check_written(files, solver, per_param):
    """Both files of a fresh snapshot read back as HDF5 with what Caffe put there."""
    model, state = files
    try:
        with h5py.File(model, 'r') as f:
            layers = sum(1 for layer in f['data'] if len(f['data'][layer]))
        with h5py.File(state, 'r') as f:
            iteration, history = int(f['iter'][()].item()), len(f['history'])
    except (OSError, KeyError) as err:
        raise SolverStateError('the snapshot Caffe just wrote does not read back (%s); nothing was '
                               'renamed into place: check the disk and run the same command again' % err) from err
    expected = len(learnable_shapes(solver.net)) * per_param
    if (layers, iteration, history) != (len(solver.net.params), solver.iter, expected):
        raise SolverStateError('the snapshot Caffe just wrote holds %d layers, iteration %d and %d history '
                               'blobs instead of %d, %d and %d; nothing was renamed into place'
                               % (layers, iteration, history, len(solver.net.params), solver.iter, expected))


def _again(variant):
    return ('resume from a %s_iter_<N>.solverstate.h5 in the snapshots/ folder of a run of %s' % (variant, variant))


def read_state(path, variant):
    """(iteration, history blob shapes, the caffemodel it names or None) of the HDF5 solverstate
    `path`; any other file is a SolverStateError saying what to pass instead (`variant`: the name
    of the variant it should belong to)."""
    if not os.path.isfile(path):
        raise SolverStateError('--resume %s: no such file; %s' % (path, _again(variant)))
    with open(path, 'rb') as f:
        is_hdf5 = f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    if not is_hdf5:
        raise SolverStateError('--resume %s is not an HDF5 solverstate (the snapshots this driver takes); %s'
                               % (path, _again(variant)))
    try:
        with h5py.File(path, 'r') as f:
            kind = 'solverstate' if 'iter' in f and 'history' in f else 'caffemodel' if 'data' in f else None
            if kind == 'solverstate':
                iteration = int(f['iter'][()].item())
                learned = f['learned_net'][()].decode().rstrip('\0') if 'learned_net' in f else None
                history = [tuple(f['history'][str(i)].shape) for i in range(len(f['history']))]
    except (OSError, KeyError, ValueError) as err:
        raise SolverStateError('--resume %s cannot be read as a solverstate (%s); %s'
                               % (path, err, _again(variant))) from err
    if kind == 'caffemodel':
        raise SolverStateError('--resume %s is a caffemodel (weights only), not a solverstate: start a fresh run '
                               'from it with --weights %s, or resume from the .solverstate.h5 beside it'
                               % (path, path))
    if kind is None:
        raise SolverStateError('--resume %s is an HDF5 file but not a solverstate; %s' % (path, _again(variant)))
    if not path.endswith('.h5'):
        raise SolverStateError('--resume %s is an HDF5 solverstate, but Caffe reads a solverstate as HDF5 only '
                               'when its name ends in .h5: rename it to %s.h5 and pass that' % (path, path))
    model = os.path.join(os.path.dirname(os.path.abspath(path)), learned) if learned else None
    return iteration, history, model


def check_state(path, net, per_param, variant):
    """The iteration of the solverstate `path` once it is known to restore into `net`, the training
    net of `variant` whose solver keeps `per_param` history blobs per learnable blob."""
    iteration, history, model = read_state(path, variant)
    shapes = learnable_shapes(net)
    if history != shapes * per_param:
        raise SolverStateError(
            '--resume %s holds %d history blobs, the training net of %s needs %d (%d learnable blobs%s)%s: '
            'it is a snapshot of another variant or stage; %s'
            % (path, len(history), variant, len(shapes) * per_param, len(shapes),
               ' x %d for this solver type' % per_param if per_param > 1 else '',
               '' if len(history) != len(shapes) * per_param else ', of other shapes', _again(variant)))
    if model:
        try:
            check_weights_fit(model, net, '(the caffemodel that %s names)' % path)
        except WeightsError as err:
            raise SolverStateError('--resume %s: %s' % (path, err)) from err
    return iteration


def restore(solver, path):
    """Restore a solverstate checked by check_state, from its own folder (see the module's docstring)."""
    with working_directory(os.path.dirname(os.path.abspath(path))):
        solver.restore(os.path.basename(path))


def prune(run_dir, keep, protected):
    """Delete the snapshots of `run_dir` but the `keep` latest and those of iterations in `protected`
    (the best-scoring round's); returns the deleted paths. Each solverstate goes before its caffemodel,
    so a kill in between leaves no snapshot that lacks its weights."""
    states = snapshot_states(run_dir)
    spare = {it for it, _ in states[-keep:]} | set(protected)
    deleted = []
    for iteration, state in states:
        if iteration in spare:
            continue
        model = state[:-len('.solverstate.h5')] + '.caffemodel.h5'
        for path in (state, model):
            if os.path.exists(path):
                os.remove(path)
                deleted.append(path)
    return deleted
