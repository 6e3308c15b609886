"""The divergence guard: a NaN loss stops training before its backward pass, with the message, the
iteration and the last good snapshot kept; and the guard leaves normal training exactly as it was."""
import os
import subprocess
import sys
import tempfile

import numpy as np

import train_fixtures
from caffe_fcn.train import metrics_log
from caffe_fcn.backend import select_device
from caffe_fcn.train.divergence import guarded
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.surgery.stages import init_variant
from caffe_fcn.backend.weights import read_weights

TESTS = os.path.dirname(os.path.abspath(__file__))

# Round 1 trains normally; the run is then resumed with an absurd learning rate (1e8).
DIVERGING_RUN = '''
import os
import sys
sys.path.insert(0, %(tests)r)
import train_fixtures
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.train.solve import SolveError, train
fixture = train_fixtures.voc_fixture(%(folder)r + '/VOC')
trunk = train_fixtures.random_fcn_trunk(%(folder)r + '/trunk.caffemodel')
good = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=1, steps=2)
train(good, NetFiles.written(good, %(folder)r + '/nets'), %(folder)r + '/run', weights=[trunk], say=print)
os.rename(%(folder)r + '/run/voc-fcn32s.caffemodel', %(folder)r + '/round1.caffemodel')
print('FIRST ROUND DONE', flush=True)
absurd = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=5, steps=2, base_lr=1e8)
try:
    train(absurd, NetFiles.written(absurd, %(folder)r + '/absurd'), %(folder)r + '/run', rounds=5,
          resume=%(folder)r + '/run/snapshots/voc-fcn32s_iter_2.solverstate.h5', say=print)
except SolveError as err:
    sys.exit(str(err))
'''


def test_absurd_learning_rate_stops_with_message_and_iteration_and_keeps_the_last_snapshot(tmp_path):
    folder = str(tmp_path)
    # A subprocess, so that the test also sees the process end cleanly: no abort from a damaged heap.
    done = subprocess.run([sys.executable, '-c', DIVERGING_RUN % dict(tests=TESTS, folder=folder)],
                          capture_output=True, text=True, timeout=300)
    assert 'FIRST ROUND DONE' in done.stdout, done.stderr
    assert done.returncode == 1, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("voc-fcn32s diverged: the semantic loss (blob 'loss') is nan at iteration ")
    iteration = int(message.split('at iteration ')[1].split('.')[0])
    assert iteration > 2
    kept = os.path.join(folder, 'run', 'snapshots', 'voc-fcn32s_iter_2.solverstate.h5')
    assert 'the last good snapshot is %s' % kept in message
    assert sorted(os.listdir(os.path.join(folder, 'run', 'snapshots'))) == [
        'voc-fcn32s_iter_2.caffemodel.h5', 'voc-fcn32s_iter_2.solverstate.h5']
    last = metrics_log.read(os.path.join(folder, 'run', 'metrics.jsonl'))[-1]
    assert (last['event'], last['iteration'], last['loss'], last['last_snapshot']) == ('diverged', iteration, 'nan', kept)


def test_guarded_training_net_learns_exactly_like_the_plain_one(tmp_path):
    caffe = select_device()
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(tmp_path / 'trunk.caffemodel')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture)
    nets = NetFiles.written(variant, str(tmp_path / 'nets'))

    def train_four_steps(guard):
        settings = nets.solver()
        settings.random_seed = 5  # same dropout masks in both solvers
        settings.snapshot_prefix = str(tmp_path / 'snap')
        folder = tempfile.mkdtemp(dir=tmp_path)
        if guard:
            settings.train_net = os.path.join(folder, 'train.prototxt')
            with open(settings.train_net, 'w') as f:
                f.write(str(guarded(nets.net_param('train'), variant.outputs)))
        with open(os.path.join(folder, 'solver.prototxt'), 'w') as f:
            f.write(str(settings))
        solver = caffe.get_solver(f.name)
        init_variant(variant, solver.net, [read_weights(trunk)])
        losses = []
        for _ in range(4):
            solver.step(1)
            losses.append(float(solver.net.blobs['loss'].data))
        return solver, losses

    plain, plain_losses = train_four_steps(False)
    guarded_solver, guarded_losses = train_four_steps(True)
    assert 'divergence_guard' in guarded_solver.net._layer_names
    assert guarded_losses == plain_losses and plain_losses[-1] < plain_losses[0]
    for name in plain.net.params:
        for a, b in zip(plain.net.params[name], guarded_solver.net.params[name]):
            np.testing.assert_array_equal(a.data, b.data)
