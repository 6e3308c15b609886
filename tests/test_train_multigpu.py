"""Multi-GPU training's parts that run without a GPU: each rank's data layer reads its own share of the
training split (real Caffe nets, Caffe's own solver rank and count), --gpus parsing, the supervisor that
stops every rank when one fails, and the weight digest ranks are compared by. Training on GPUs: test_gpu.py."""
import argparse
import multiprocessing
import sys
import time

import numpy as np
import pytest

from caffe_fcn import cli
from caffe_fcn.backend import build_flags
from caffe_fcn.data.fixtures import write_voc
from caffe_fcn.data.readers import DataError
from caffe_fcn.train import multigpu
from caffe_fcn.train.nccl import params_digest
from data_net import caffe, data_net
from test_data_sampling import id_sequence


@pytest.fixture
def solver_rank():
    """Sets Caffe's solver rank and count as multigpu.run_rank does, restoring one solver afterwards."""
    def set_rank(rank, count):
        caffe.set_solver_count(count)
        caffe.set_solver_rank(rank)
    yield set_rank
    set_rank(0, 1)


def test_each_rank_reads_every_count_th_id_of_the_training_split(tmp_path, solver_rank):
    fx = write_voc(tmp_path / 'VOC', {'train': 7, 'val': 3}, sizes=((12, 14),))
    ids = fx.splits['train']
    for rank in range(3):
        solver_rank(rank, 3)
        net = data_net(tmp_path, 'voc', dict(fx.params, split='train'))
        assert net.layers[0].ids == ids[rank::3]
        assert set(id_sequence(net, 40)) == set(ids[rank::3])


def test_other_splits_and_a_single_solver_read_the_whole_split(tmp_path, solver_rank):
    fx = write_voc(tmp_path / 'VOC', {'train': 5, 'val': 3}, sizes=((12, 14),))
    solver_rank(1, 2)
    assert data_net(tmp_path, 'voc', dict(fx.params, split='val')).layers[0].ids == fx.splits['val']
    solver_rank(0, 1)
    assert data_net(tmp_path, 'voc', dict(fx.params, split='train')).layers[0].ids == fx.splits['train']


def test_more_solvers_than_training_images_is_a_clear_error(tmp_path, solver_rank):
    fx = write_voc(tmp_path / 'VOC', {'train': 2}, sizes=((12, 14),))
    solver_rank(0, 4)
    with pytest.raises(DataError, match='4 solvers cannot share a split of 2 images; use at most 2 GPUs'):
        data_net(tmp_path, 'voc', dict(fx.params, split='train'))


@pytest.mark.parametrize('text,gpus', [('0', [0]), ('0,1', [0, 1]), ('3,1,2', [3, 1, 2])])
def test_gpus_option_parses_device_indices(text, gpus):
    assert cli.device_list(text) == gpus


@pytest.mark.parametrize('text,message', [('0,0', 'names a GPU twice: NCCL'), ('a,b', 'separated by commas'),
                                          ('0,-1', 'a CUDA device index is 0 or more')])
def test_gpus_option_refuses_what_nccl_cannot_run(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        cli.device_list(text)


def test_gpu_and_gpus_together_are_refused_by_the_parser(capsys):
    parser = cli.parser('prog', 'test', 'prog --gpus 0,1')
    cli.add_gpu(parser)
    cli.add_gpus(parser)
    with pytest.raises(SystemExit) as exit:
        cli.run(parser, lambda args: None, ['--gpu', '0', '--gpus', '0,1'])
    assert exit.value.code == 2 and '--gpu and --gpus exclude each other' in capsys.readouterr().err


@pytest.mark.skipif('-DCPU_ONLY=ON' not in build_flags(), reason='the installed Caffe is a CUDA build')
def test_gpus_on_the_cpu_only_build_is_one_line_before_the_command_runs(capsys):
    parser = cli.parser('prog', 'test', 'prog --gpus 0,1')
    cli.add_gpus(parser)
    ran = []
    assert cli.run(parser, ran.append, ['--gpus', '0,1']) == cli.USER_ERROR
    assert not ran
    assert capsys.readouterr().err == ('prog: GPU 0 requested, but this Caffe was built CPU-only: run without --gpu, '
                                       'or build the CUDA one with `make setup CUDA=1` (README, "GPUs")\n')


def exit_after(seconds, code):
    time.sleep(seconds)
    sys.exit(code)


def test_supervisor_returns_the_first_rank_that_fails_while_others_still_run():
    spawn = multiprocessing.get_context('spawn')
    ranks = [spawn.Process(target=exit_after, args=(30, 0)), spawn.Process(target=exit_after, args=(0.5, 3))]
    for process in ranks:
        process.start()
    try:
        failed = multigpu.wait_for(ranks)
        assert failed is ranks[1] and failed.exitcode == 3
        assert ranks[0].is_alive()  # still waiting: train_on_gpus terminates it
    finally:
        ranks[0].terminate()
        for process in ranks:
            process.join()


def test_supervisor_returns_none_when_every_rank_finishes():
    spawn = multiprocessing.get_context('spawn')
    ranks = [spawn.Process(target=exit_after, args=(t, 0)) for t in (0.2, 0.6)]
    for process in ranks:
        process.start()
    assert multigpu.wait_for(ranks) is None
    assert [p.exitcode for p in ranks] == [0, 0]


def test_weight_digest_tells_apart_ranks_that_drifted():
    weights = {'conv': [np.ones((2, 3), np.float32), np.zeros(2, np.float32)], 'score': [np.arange(4.0)]}
    same = {name: [a.copy() for a in arrays] for name, arrays in reversed(list(weights.items()))}
    assert params_digest(same) == params_digest(weights)  # layer order does not matter, values do
    same['conv'][0][1, 2] = np.nextafter(np.float32(1), np.float32(2))
    assert params_digest(same) != params_digest(weights)
