"""The solve driver on narrow twins and fixture data, with real Caffe: rounds, log, snapshots,
scores, resume, refusals, and the weights each variant starts from."""
import dataclasses
import os

import numpy as np
import pytest

import train_fixtures
from cli_support import assert_user_error
from caffe_fcn.train import metrics_log, solve
from caffe_fcn.train.prerequisites import missing_data
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.paths import ROOT
from caffe_fcn.evaluate.score import score
from caffe_fcn.train.solve import SolveError, train
from caffe_fcn.backend.weights import read_weights

QUIET = dict(say=lambda line: None)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp('solve')
    fixture = train_fixtures.voc_fixture(folder / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(folder / 'vgg16-fcn-twin.caffemodel')
    return folder, fixture, trunk


def twin_nets(folder, fixture, **changes):
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture, **changes)
    return variant, NetFiles.written(variant, str(folder / 'nets'))


def records(run_dir):
    return metrics_log.read(os.path.join(run_dir, 'metrics.jsonl'))


def test_two_rounds_log_snapshot_and_score_every_round_and_link_the_final_model(setup, tmp_path):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture, rounds=2, steps=3)
    run = str(tmp_path / 'run')
    final = train(variant, nets, run, weights=[trunk], **QUIET)

    log = records(run)
    assert [r['event'] for r in log] == ['start', 'round', 'round']
    assert log[0]['weights'] == [trunk]
    first, second = log[1:]
    assert (first['iteration'], first['round'], second['iteration'], second['round']) == (3, 1, 6, 2)
    for r in (first, second):
        assert r['variant'] == 'voc-fcn32s' and r['split'] == 'val'
        scores = r['scores']['semantic']
        assert scores['images'] == len(fixture.splits['val'])
        assert 0 <= scores['mean_iu'] <= 1 and scores['loss'] > 0
        assert scores['absent_classes'] == [c for c in range(21) if c not in (0, 15)]
        assert r['train_loss']['semantic'] > 0 and r['wall_time'] > 0
        assert os.path.isfile(os.path.join(run, r['snapshot']))
    snapshots = sorted(os.listdir(os.path.join(run, 'snapshots')))
    assert snapshots == ['voc-fcn32s_iter_%d.%s.h5' % (i, ext) for i in (3, 6) for ext in ('caffemodel', 'solverstate')]
    assert final == os.path.join(run, 'voc-fcn32s.caffemodel')
    # The final model is a binary caffemodel holding the weights of the last snapshot.
    last = read_weights(os.path.join(run, 'snapshots', 'voc-fcn32s_iter_6.caffemodel.h5'))
    stored = read_weights(final)
    assert list(stored) == list(last)
    for name in last:
        for a, b in zip(stored[name], last[name]):
            np.testing.assert_array_equal(a, b)

    # The round's scores are those of its snapshot: the test net shared the trained weights.
    net, split = nets.test_net(final)
    rescored = score(net, variant.outputs)['semantic']
    logged = second['scores']['semantic']
    for key in ('pixel_accuracy', 'mean_iu', 'loss'):
        assert rescored[key] == pytest.approx(logged[key], rel=1e-5)
    assert rescored['per_class_iu'][15] == pytest.approx(logged['per_class_iu'][15], rel=1e-5)


def test_resume_continues_at_the_snapshot_iteration_and_appends_to_the_log(setup, tmp_path):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture, rounds=2, steps=2)
    run = str(tmp_path / 'run')
    train(variant, nets, run, weights=[trunk], **QUIET)
    before = open(os.path.join(run, 'metrics.jsonl')).read()

    state = os.path.join(run, 'snapshots', 'voc-fcn32s_iter_4.solverstate.h5')
    # A finished run keeps its final model: training it further needs that file moved away first.
    with pytest.raises(SolveError, match="holds the finished run's model; to train this run further, move it away"):
        train(variant, nets, run, rounds=3, resume=state, **QUIET)
    os.rename(os.path.join(run, 'voc-fcn32s.caffemodel'), str(tmp_path / 'kept.caffemodel'))
    final = train(variant, nets, run, rounds=3, resume=state, **QUIET)
    text = open(os.path.join(run, 'metrics.jsonl')).read()
    assert text.startswith(before)  # continued, not overwritten
    log = records(run)
    assert [(r['event'], r['iteration']) for r in log] == [
        ('start', 0), ('round', 2), ('round', 4), ('resume', 4), ('round', 6)]
    assert [r['iteration'] for r in metrics_log.rounds(log)] == [2, 4, 6]
    assert os.path.isfile(final) and sorted(os.listdir(os.path.join(run, 'snapshots')))[-1] == 'voc-fcn32s_iter_6.solverstate.h5'
    os.rename(final, str(tmp_path / 'kept6.caffemodel'))

    # Resuming from iteration 2 would overwrite the snapshots of 4 and 6: refused before any step.
    with pytest.raises(SolveError, match='would overwrite the later snapshots .*iter_4.solverstate.h5'):
        train(variant, nets, run, rounds=3, resume=state.replace('_4.', '_2.'), **QUIET)
    with pytest.raises(SolveError, match='past the end of the schedule'):
        train(variant, nets, run, rounds=2, resume=state.replace('_4.', '_6.'), **QUIET)
    assert open(os.path.join(run, 'metrics.jsonl')).read() == text

    # A run killed after its last snapshot but before its final model: resuming writes the final
    # model from that snapshot, with no step trained.
    final = train(variant, nets, run, resume=state.replace('_4.', '_6.'), **QUIET)
    stored, kept = read_weights(final), read_weights(str(tmp_path / 'kept6.caffemodel'))
    assert list(stored) == list(kept)
    assert all(np.array_equal(a, b) for name in kept for a, b in zip(stored[name], kept[name]))
    assert [(r['event'], r['iteration']) for r in records(run)][-1] == ('resume', 6)


def test_fresh_run_into_a_used_run_directory_is_refused_with_the_resume_command(setup, tmp_path):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture, rounds=2, steps=1)
    run = str(tmp_path / 'run')
    train(variant, nets, run, weights=[trunk], **QUIET)
    log_before = open(os.path.join(run, 'metrics.jsonl')).read()
    # A finished run is not offered a resume.
    with pytest.raises(SolveError, match=r'holds a finished run .*move it away') as err:
        train(variant, nets, run, weights=[trunk], **QUIET)
    assert '--resume' not in str(err.value)
    os.remove(os.path.join(run, 'voc-fcn32s.caffemodel'))
    with pytest.raises(SolveError, match=r'already holds a run \(snapshots up to iteration 2\).* Resume it: '
                                         r'python solve.py \S+ --resume \S+/run$'):
        train(variant, nets, run, weights=[trunk], **QUIET)
    assert open(os.path.join(run, 'metrics.jsonl')).read() == log_before


def test_training_loss_goes_down_over_a_few_dozen_iterations(setup, tmp_path):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture, rounds=3, steps=10)
    run = str(tmp_path / 'run')
    train(variant, nets, run, weights=[trunk], **QUIET)
    losses = [r['train_loss']['semantic'] for r in metrics_log.rounds(records(run))]
    assert all(map(lambda value: value == value and value < float('inf'), losses))
    assert losses[-1] < 0.8 * losses[0]


def test_missing_data_and_start_weights_name_the_commands_that_make_them(setup, tmp_path):
    folder, fixture, trunk = setup
    twin = train_fixtures.voc_twin('voc-fcn32s', fixture)
    spec = twin.data['train']
    nowhere = dataclasses.replace(twin, data=dict(twin.data, train=dataclasses.replace(
        spec, params=dict(spec.params, voc_dir=str(tmp_path / 'none')))))
    assert missing_data(nowhere) == {str(tmp_path / 'none'): '`make data-voc` (VOC2011; `make data-voc2012` for VOC2012)'}
    assert missing_data(twin) == {}

    runs = os.path.join(ROOT, 'runs')
    assert get_variant('voc-fcn32s').init.weights_files() == [
        (os.path.join(ROOT, 'weights', 'vgg16-fcn.caffemodel'), 'make vgg16-fcn')]
    assert get_variant('voc-fcn8s').init.weights_files() == [
        (os.path.join(runs, 'voc-fcn16s', 'voc-fcn16s.caffemodel'), 'make voc-fcn16s')]
    assert get_variant('nyud-fcn32s-color-hha').init.weights_files() == [
        (os.path.join(runs, s, s + '.caffemodel'), 'make ' + s) for s in ('nyud-fcn32s-color', 'nyud-fcn32s-hha')]

    variant, nets = twin_nets(tmp_path, fixture)
    with pytest.raises(SolveError, match=r'^voc-fcn32s cannot start:\n\S*absent.caffemodel does not exist \(needed to '
                                         r'start voc-fcn32s\): check --weights$'):
        train(variant, nets, str(tmp_path / 'run'), weights=[str(tmp_path / 'absent.caffemodel')], **QUIET)
    assert not os.path.exists(tmp_path / 'run')


def test_solve_cli_trains_and_reports_errors_in_one_line(setup, tmp_path, monkeypatch, capsys):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture)
    # The CLI reads nets/<variant>; here the twin's files stand in for the registered variant's.
    monkeypatch.setattr(solve, 'NetFiles', lambda variant: nets)
    run = str(tmp_path / 'run')
    assert solve.main(['nets/voc-fcn32s', '--weights', trunk, '--rounds', '1', '--steps', '2', '--out', run]) == 0
    out = capsys.readouterr().out
    assert 'voc-fcn32s round 1/1, iteration 2' in out and out.endswith('done: %s/voc-fcn32s.caffemodel\n' % run)
    status = solve.main(['nets/voc-fcn32s', '--resume', str(tmp_path / 'nowhere.solverstate.h5'), '--out', run])
    assert_user_error(status, capsys, 'python solve.py', r'^--resume \S*nowhere.solverstate.h5: no such solverstate '
                                                         r'\(snapshots of the run in \S*/run: \S*voc-fcn32s_iter_2.solverstate.h5\)$')
    status = solve.main(['voc-fcn32s', '--rounds', '0', '--out', str(tmp_path / 'other')])
    assert_user_error(status, capsys, 'python solve.py',  # the twin's 3 steps
                      '--rounds, --steps and --keep must be positive, got 0, 3 and None')


def test_keep_prunes_all_snapshots_but_the_latest_and_the_best_scoring_rounds(setup, tmp_path):
    folder, fixture, trunk = setup
    variant, nets = twin_nets(tmp_path, fixture, rounds=5, steps=2)
    run = str(tmp_path / 'run')
    lines = []
    train(variant, nets, run, weights=[trunk], keep=1, say=lines.append)
    rounds = [r for r in records(run) if r['event'] == 'round']
    best = max(rounds, key=lambda r: r['scores']['semantic']['mean_iu'])['iteration']
    kept = sorted({best, 10})
    assert sorted(os.listdir(os.path.join(run, 'snapshots'))) == sorted(
        'voc-fcn32s_iter_%d.%s.h5' % (i, kind) for i in kept for kind in ('caffemodel', 'solverstate'))
    deleted = [line for line in lines if line.startswith('--keep 1: deleted ')]
    assert len(deleted) == 2 * (5 - len(kept))  # a solverstate and a caffemodel per pruned round
