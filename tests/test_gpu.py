"""The CUDA build on a GPU: every variant computes on the GPU what it computes on the CPU, the solve
driver trains, snapshots and resumes there, and multi-GPU training through NCCL runs and stays in sync.
These run in-process, so under the Python of a CUDA build on a machine whose GPU it can use (make
gpu-check; make test where make setup built for the machine's GPU); elsewhere they are skipped with
the reason caffe_fcn.backend.gpu gives."""
import os

import numpy as np
import pytest

import train_fixtures
import twin_arrays
from bench.nets import fill_inputs, randomize, set_input_size, write_net
from caffe_fcn.backend import build_flags, select_device
from caffe_fcn.backend.gpu import DeviceUnavailable, Runtime, check_gpu, cudart_path
from caffe_fcn.backend.weights import read_weights
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import VARIANTS, get_variant
from caffe_fcn.train import metrics_log, multigpu
from caffe_fcn.train.snapshots import snapshot_states
from caffe_fcn.train.solve import train


def gpu_problem():
    """Why these tests cannot run here, or None."""
    try:
        check_gpu(0, build_flags())
    except DeviceUnavailable as err:
        return str(err)
    return None


PROBLEM = gpu_problem()
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason='needs a GPU the installed CUDA build can use: %s'
                                % PROBLEM)
QUIET = dict(say=lambda line: None)
#: GPU against CPU: cuBLAS and OpenBLAS sum in different orders, so float32 results differ in their last
#: bits; every array must agree within this fraction of its largest magnitude.
RELATIVE_TOLERANCE = 1e-4
ARGMAX_AGREEMENT = 0.999


def gpu_count():
    runtime = Runtime(cudart_path())
    return runtime.device_count()[1]


def largest_difference(a, b):
    """max |a - b| as a fraction of max |b| (0 for two zero arrays)."""
    scale = float(np.abs(b).max()) if b.size else 0.0
    diff = float(np.abs(a.astype(np.float64) - b).max()) if b.size else 0.0
    return diff / scale if scale else diff


@pytest.fixture(scope='module')
def fixtures(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('twin-fixtures'))
    return twin_arrays.write_fixtures(root)


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_twin_forward_backward_and_sgd_on_gpu_equal_cpu_within_tolerance(name, fixtures, tmp_path):
    """Forward, backward and 3 SGD steps of the narrow twin (dropout off: its masks come from another generator)."""
    variant = twin_arrays.twin(VARIANTS[name], fixtures)
    cpu = twin_arrays.variant_arrays(select_device(), variant, str(tmp_path / 'cpu'), dropout=False)
    gpu = twin_arrays.variant_arrays(select_device(0), variant, str(tmp_path / 'gpu'), dropout=False)
    select_device()
    assert sorted(cpu) == sorted(gpu)
    worst = max((largest_difference(gpu[key], cpu[key]), key) for key in cpu)
    assert worst[0] <= RELATIVE_TOLERANCE, 'largest difference %.3g in %s' % worst
    assert any(not np.array_equal(cpu[key], cpu[key.replace('sgd3/', 'param/')]) for key in cpu if 'sgd3/' in key)


def test_full_size_fcn8s_labels_agree_with_the_cpu(tmp_path):
    """FCN-8s at full width on a 500x500 input (He-random weights, random input): the label of almost every
    pixel is the same on both; the few that differ have near-tied scores."""
    caffe = select_device()
    path = write_net(get_variant('voc-fcn8s'), 'deploy', str(tmp_path / 'deploy.prototxt'))
    net = caffe.Net(path, caffe.TEST)
    set_input_size(net, 500, 500)
    randomize(net)
    fill_inputs(net)
    cpu = net.forward()['score'].copy()
    select_device(0)
    gpu = net.forward()['score'].copy()
    select_device()
    assert cpu.shape == (1, 21, 500, 500)
    agreement = float(np.mean(cpu.argmax(1) == gpu.argmax(1)))
    assert agreement >= ARGMAX_AGREEMENT, 'labels agree on %.4f %% of pixels' % (100 * agreement)
    assert largest_difference(gpu, cpu) <= RELATIVE_TOLERANCE


@pytest.fixture(scope='module')
def solve_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp('solve-gpu')
    fixture = train_fixtures.voc_fixture(folder / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(folder / 'vgg16-fcn-twin.caffemodel')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=2, steps=3)
    return variant, NetFiles.written(variant, str(folder / 'nets')), trunk


def test_solve_driver_trains_snapshots_and_resumes_on_the_gpu(solve_setup, tmp_path):
    variant, nets, trunk = solve_setup
    run = str(tmp_path / 'run')
    first = train(variant, nets, run, weights=[trunk], gpu=0, **QUIET)
    os.rename(first, str(tmp_path / 'two-rounds.caffemodel'))  # a finished run is resumed only without it
    state = snapshot_states(run)[-1][1]
    final = train(variant, nets, run, gpu=0, rounds=3, resume=state, **QUIET)
    log = metrics_log.read(os.path.join(run, 'metrics.jsonl'))
    assert [(r['event'], r['iteration']) for r in log] == [
        ('start', 0), ('round', 3), ('round', 6), ('resume', 6), ('round', 9)]
    assert [os.path.basename(path) for _, path in snapshot_states(run)] == [
        'voc-fcn32s_iter_%d.solverstate.h5' % i for i in (3, 6, 9)]
    assert log[-1]['scores']['semantic']['loss'] > 0 and np.isfinite(log[-1]['train_loss']['semantic'])
    start, trained = read_weights(trunk), read_weights(final)
    assert all(np.isfinite(a).all() for arrays in trained.values() for a in arrays)
    assert not np.array_equal(start['conv1_1'][0], trained['conv1_1'][0])


def test_one_rank_nccl_training_equals_single_gpu_training(solve_setup, tmp_path):
    """--gpus 0 runs the whole multi-GPU path (spawned rank, NCCL broadcast and all-reduce over one rank,
    the digest check) and must leave the weights --gpu 0 leaves."""
    variant, nets, trunk = solve_setup
    single = train(variant, nets, str(tmp_path / 'single'), weights=[trunk], gpu=0, **QUIET)
    ranked = multigpu.train_on_gpus([0], variant, nets, out_dir=str(tmp_path / 'nccl'), weights=[trunk])
    a, b = read_weights(single), read_weights(ranked)
    assert list(a) == list(b)
    for name in a:
        for x, y in zip(a[name], b[name]):
            np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-7)


@pytest.mark.skipif(PROBLEM is None and gpu_count() < 2,
                    reason='one GPU: NCCL (2.5 and later) refuses two ranks on one device, so two-rank training '
                           'needs two GPUs')
def test_two_gpu_nccl_training_runs_and_the_ranks_stay_in_sync(solve_setup, tmp_path):
    """train_on_gpus compares the ranks' final weight digests and raises if they differ."""
    variant, nets, trunk = solve_setup
    run = str(tmp_path / 'run')
    final = multigpu.train_on_gpus([0, 1], variant, nets, out_dir=run, weights=[trunk])
    log = metrics_log.read(os.path.join(run, 'metrics.jsonl'))
    assert [r['event'] for r in log] == ['start', 'round', 'round']
    assert os.path.isfile(final)
