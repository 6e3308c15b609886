"""Fault corpus, runs: a run that fails before its first round does not block the next start (case 5),
a torn metrics line breaks no reader (7), --resume takes the run's own schedule and refuses what is
not the run's (9), and divergence in the test loss or the weights stops a run before its snapshot
(13). Each command runs as typed in a child process; each hint it prints is run as printed."""
import json
import os
import subprocess

import pytest

import fault_support as fs
import train_fixtures
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.train import metrics_log
from caffe_fcn.train.solve import SolveError, train

SOLVE = 'python solve.py'


@pytest.fixture(scope='module')
def twin(tmp_path_factory):
    return fs.TwinRun(tmp_path_factory.mktemp('faults-runs'))


def events(run):
    return [(r['event'], r['iteration']) for r in metrics_log.read(os.path.join(run, 'metrics.jsonl'))]


# ---- case 5: a run that fails before its first round leaves nothing that blocks the next ---------

def test_bad_weights_leave_no_run_folder(twin, tmp_path):
    bad = tmp_path / 'notes.caffemodel'
    bad.write_text('not weights\n')
    run = str(tmp_path / 'run')
    done = fs.solve('voc-fcn32s', '--weights', str(bad), '--out', run, twins=twin.twins)
    assert fs.error_line(done, SOLVE).startswith('%s is not a Caffe binary caffemodel (' % bad)
    assert not os.path.exists(run)


def test_bad_data_in_the_first_round_leaves_a_run_the_same_command_starts_again(twin, tmp_path):
    """The second val image is truncated: round 1 trains, its scoring fails. The run folder keeps the
    log of the attempt (no snapshot); once the image is fixed, the same command starts afresh in it."""
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=1, steps=2)
    twins = {'voc-fcn32s': NetFiles.written(variant, str(tmp_path / 'nets')).net_dir}
    image = os.path.join(fixture.root, 'JPEGImages', fixture.splits['val'][1] + '.jpg')
    whole = open(image, 'rb').read()
    with open(image, 'wb') as f:
        f.write(whole[:len(whole) // 3])
    run = str(tmp_path / 'run')
    command = [SOLVE, 'voc-fcn32s', '--weights', twin.trunk, '--out', run]
    done = fs.run(' '.join(command), twins=twins)
    assert fs.error_line(done, SOLVE).startswith('cannot decode %s (corrupt or truncated file?)' % image)
    assert sorted(os.listdir(run)) == ['metrics.jsonl', 'snapshots'] and os.listdir(os.path.join(run, 'snapshots')) == []
    assert events(run) == [('start', 0)]
    with open(image, 'wb') as f:
        f.write(whole)
    done = fs.run(' '.join(command), twins=twins)
    assert done.returncode == 0, done.stderr[-2000:]
    assert events(run) == [('start', 0), ('start', 0), ('round', 2)]
    assert [r['iteration'] for r in metrics_log.rounds(metrics_log.read(os.path.join(run, 'metrics.jsonl')))] == [2]


# ---- case 7: a torn last line in metrics.jsonl ---------------------------------------------------

def test_torn_last_line_is_skipped_by_every_reader_and_the_next_append_starts_a_fresh_line(twin, tmp_path):
    run = twin.trained(tmp_path / 'run', rounds=2, steps=1)
    final = os.path.join(run, 'voc-fcn32s.caffemodel')
    os.rename(final, str(tmp_path / 'final.caffemodel'))
    log = os.path.join(run, 'metrics.jsonl')
    torn = open(log, 'rb').read() + b'{"event": "round", "variant": "voc-fcn32s", "iteration": 3, "sco'
    with open(log, 'wb') as f:
        f.write(torn)
    lines = torn.count(b'\n') + 1
    warning = 'warning: %s:%d is not a whole JSON line (a write cut short?); skipped' % (log, lines)

    done = fs.cli('caffe_fcn.evaluate.compare', run)
    assert done.returncode == 0 and warning in done.stderr and 'voc-fcn32s on val (semantic), iteration 2' in done.stdout
    done = fs.cli('caffe_fcn.evaluate.plot', run, '--out', str(tmp_path / 'plot'))
    assert done.returncode == 0 and warning in done.stderr, done.stderr
    assert os.path.isfile(tmp_path / 'plot' / 'metrics.png')
    done = fs.cli('caffe_fcn.evaluate.score', 'voc-fcn32s', '--weights', str(tmp_path / 'final.caffemodel'),
                  '--out', run, twins=twin.twins)
    assert done.returncode == 0 and warning in done.stderr, done.stderr
    done = fs.solve('voc-fcn32s', '--resume', run, '--rounds', '3', twins=twin.twins)
    assert done.returncode == 0 and warning in done.stderr, done.stderr

    text = open(log, 'rb').read()
    assert text.startswith(torn + b'\n')  # the torn line is kept, the next record on a line of its own
    added = [json.loads(line) for line in text[len(torn) + 1:].splitlines()]
    assert [(r['event'], r['iteration']) for r in added if 'iteration' in r] == [('resume', 2), ('round', 3)]
    assert [r['event'] for r in added] == ['score', 'resume', 'round']


# ---- case 9: --resume takes the run's schedule; what is not the run's is refused -------------------

def test_resume_takes_rounds_and_steps_from_the_run_log_and_its_hint_works_as_printed(twin, tmp_path):
    run = str(tmp_path / 'run')

    def interrupt_after_round_one(line):
        if 'round 1/3' in line:
            raise KeyboardInterrupt  # Ctrl-C between rounds
    with pytest.raises(KeyboardInterrupt):
        train(twin.variant, twin.nets, run, weights=[twin.trunk], rounds=3, steps=3, say=interrupt_after_round_one)
    assert events(run) == [('start', 0), ('round', 3)]

    # A fresh start into it is refused with the resume command, which works as printed (without the
    # schedule: the twin's own is 2 x 2, the run's 3 x 3).
    done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', run, twins=twin.twins)
    hint = fs.hint_after(fs.error_line(done, SOLVE), 'Resume it: ')
    assert hint == 'python solve.py %s --resume %s' % (twin.nets.net_dir, run)
    done = fs.run(hint, twins=twin.twins)
    assert done.returncode == 0, done.stderr[-2000:]
    assert events(run) == [('start', 0), ('round', 3), ('resume', 3), ('round', 6), ('round', 9)]
    log = metrics_log.read(os.path.join(run, 'metrics.jsonl'))
    assert (log[2]['rounds'], log[2]['steps'], log[2]['weights']) == (3, 3, [twin.trunk])

    # A finished run is not offered a resume; its hint (move it away) works as printed.
    before = fs.tree(run)
    done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', run, twins=twin.twins)
    message = fs.error_line(done, SOLVE)
    assert '--resume' not in message and fs.tree(run) == before
    move = fs.hint_after(message, 'move it away (').split(')')[0]
    assert move == 'mv %s %s.old' % (run, run)
    subprocess.run(move.split(), check=True)
    done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', run, '--rounds', '1', '--steps', '1', twins=twin.twins)
    assert done.returncode == 0 and events(run) == [('start', 0), ('round', 1)], done.stderr[-2000:]


def test_resume_takes_the_runs_loss_sampling_and_refuses_another(twin, tmp_path):
    """A run trained with --loss-sampling 0.5 resumes with it when the option is left out (its log's
    resume record and the solver's iter_size say so); another value is refused before Caffe starts."""
    run = str(tmp_path / 'run')

    def interrupt_after_round_one(line):
        if 'round 1/2' in line:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(twin.variant, twin.nets, run, weights=[twin.trunk], rounds=2, steps=2, loss_sampling=0.5,
              say=interrupt_after_round_one)
    before = fs.tree(run)
    done = fs.solve('voc-fcn32s', '--resume', run, '--loss-sampling', '1', twins=twin.twins)
    assert fs.error_line(done, SOLVE) == (
        'the run in %s trains with --recipe heavy --loss-sampling 0.5 (its log), not --recipe heavy '
        '--loss-sampling 1: leave these options out to resume it as it was trained, or start a new run in '
        'another --out' % run)
    assert fs.tree(run) == before
    done = fs.solve('voc-fcn32s', '--resume', run, twins=twin.twins)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = [r for r in metrics_log.read(os.path.join(run, 'metrics.jsonl')) if r['event'] == 'resume']
    assert len(resumed) == 1 and resumed[0]['loss_sampling'] == 0.5 and 'iter_size: 2' in resumed[0]['solver']
    assert events(run)[-2:] == [('resume', 2), ('round', 4)]  # iterations count solver steps, not images


def test_a_solverstate_resumed_into_an_empty_folder_is_refused(twin, tmp_path):
    run = twin.trained(tmp_path / 'run', rounds=1, steps=1)
    state = os.path.join(run, 'snapshots', 'voc-fcn32s_iter_1.solverstate.h5')
    os.makedirs(tmp_path / 'empty')
    before = fs.tree(tmp_path)
    done = fs.solve('voc-fcn32s', '--resume', state, '--out', str(tmp_path / 'empty'), twins=twin.twins)
    assert fs.error_line(done, SOLVE) == (
        '--resume %s: %s is not a run folder (it has no metrics.jsonl), so the solverstate belongs to no run '
        'here; to start a new run from its weights, pass --weights with the .caffemodel.h5 beside it'
        % (state, tmp_path / 'empty'))
    assert fs.tree(tmp_path) == before and os.listdir(tmp_path / 'empty') == []


# ---- case 13: a non-finite test loss or non-finite weights are divergence -------------------------

@pytest.mark.parametrize('base_lr, what', [
    (1e3, 'the semantic test loss is nan'),
    (3e38, "blob 1 of layer 'conv1_1' holds 4 non-finite weights; one is -inf")])
def test_round_with_non_finite_test_loss_or_weights_stops_before_its_snapshot(twin, tmp_path, base_lr, what):
    """Round 1 trains normally; the run then goes on with rounds of one step at an absurd learning rate:
    the training loss of that step is finite (computed before its update), the weights after it or the
    test loss on them are not. Its hint, with base_lr lowered as it says, resumes the run."""
    run = twin.trained(tmp_path / 'run', rounds=1, steps=2)
    os.remove(os.path.join(run, 'voc-fcn32s.caffemodel'))
    absurd = train_fixtures.voc_twin('voc-fcn32s', twin.fixture, base_lr=base_lr)
    twins = {'voc-fcn32s': NetFiles.written(absurd, str(tmp_path / 'absurd')).net_dir}
    before = fs.tree(os.path.join(run, 'snapshots'))
    done = fs.solve('voc-fcn32s', '--resume', run, '--rounds', '4', '--steps', '1', twins=twins)
    message = fs.error_line(done, SOLVE)
    kept = os.path.join(run, 'snapshots', 'voc-fcn32s_iter_2.solverstate.h5')
    solver = os.path.join(twins['voc-fcn32s'], 'solver.prototxt')
    assert message == (
        'voc-fcn32s diverged: %s after iteration 3 (checked at the end of its round). Stopped, without a snapshot '
        'of it; the last good snapshot is %s. Lower base_lr in %s and resume from it: python solve.py %s '
        '--resume %s' % (what, kept, solver, twins['voc-fcn32s'], kept))
    assert fs.tree(os.path.join(run, 'snapshots')) == before  # no snapshot of the diverged round
    last = metrics_log.read(os.path.join(run, 'metrics.jsonl'))[-1]
    assert (last['event'], last['iteration'], last['last_snapshot']) == ('diverged', 3, kept)

    text = open(solver).read()
    with open(solver, 'w') as f:
        f.write(text.replace('base_lr: %g' % base_lr, 'base_lr: 0.001'))
    assert 'base_lr: 0.001' in open(solver).read()
    done = fs.run(fs.hint_after(message, 'resume from it: '), twins=twins)
    assert done.returncode == 0, done.stderr[-2000:]
    assert events(run)[-3:] == [('resume', 2), ('round', 3), ('round', 4)]
