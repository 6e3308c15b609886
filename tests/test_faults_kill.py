"""Fault corpus, interruptions: a child process killed with SIGKILL in the middle of a snapshot write
or a metrics append (case 6), `make <variant>` going on after such a kill by itself (8), and a full
disk while a snapshot is written (3). The timing is deterministic: a hook in the child blocks the
writer at the chosen point (tests/fault_support.py, CHILD) and the test kills it there."""
import os
import signal
import subprocess

import pytest

import fault_support as fs
from caffe_fcn import atomic
from caffe_fcn.train import metrics_log
from caffe_fcn.train.snapshots import snapshot_states

SOLVE = 'python solve.py'


@pytest.fixture(scope='module')
def twin(tmp_path_factory):
    return fs.TwinRun(tmp_path_factory.mktemp('faults-kill'))


def events(run):
    return [(r['event'], r['iteration']) for r in metrics_log.read(os.path.join(run, 'metrics.jsonl'))]


def leftovers(folder):
    return [os.path.basename(p) for p in atomic.leftovers(folder)]


def state_name(iteration):
    return 'voc-fcn32s_iter_%d.solverstate.h5' % iteration


def model_name(iteration):
    return 'voc-fcn32s_iter_%d.caffemodel.h5' % iteration


# ---- case 6: SIGKILL in the middle of a snapshot write ------------------------------------------------

@pytest.mark.parametrize('match, left', [
    # Caffe has written both temporary files; the first rename has not happened.
    (model_name(2), []),
    # the caffemodel is in place, its solverstate is not: no snapshot (snapshot_states counts solverstates)
    (state_name(2), [model_name(2)])])
def test_kill_during_a_snapshot_leaves_the_last_complete_one_which_the_refusal_names_and_resume_uses(
        twin, tmp_path, match, left):
    run = str(tmp_path / 'run')
    command = ['python', 'solve.py', 'voc-fcn32s', '--weights', twin.trunk, '--out', run, '--rounds', '3', '--steps', '1']
    status = fs.killed_at(command, dict(at='rename', match=match), tmp_path, twins=twin.twins)
    assert status == -signal.SIGKILL
    snapshots = os.path.join(run, 'snapshots')
    assert sorted(n for n in os.listdir(snapshots) if not atomic.is_partial(n)) == sorted(
        [model_name(1), state_name(1)] + left)
    assert len(leftovers(snapshots)) == 1  # the hidden temporary folder, never read as a snapshot
    assert [it for it, _ in snapshot_states(run)] == [1] and events(run) == [('start', 0), ('round', 1)]
    before = {path: state for path, state in fs.tree(snapshots).items()
              if os.path.basename(path) in (model_name(1), state_name(1))}

    # The same command again is refused, naming the resume command; the command works as printed.
    done = fs.run(command, twins=twin.twins)
    hint = fs.hint_after(fs.error_line(done, SOLVE), 'Resume it: ')
    assert hint == 'python solve.py %s --resume %s' % (twin.nets.net_dir, run)
    done = fs.run(hint)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'left by an interrupted write' in done.stdout and leftovers(snapshots) == []
    assert events(run) == [('start', 0), ('round', 1), ('resume', 1), ('round', 2), ('round', 3)]
    assert [it for it, _ in snapshot_states(run)] == [1, 2, 3]
    after = fs.tree(snapshots)
    assert all(after[path] == state for path, state in before.items())


# ---- case 6: SIGKILL in the middle of a metrics append -------------------------------------------

def test_kill_in_the_middle_of_a_metrics_append_leaves_the_log_as_it_was(twin, tmp_path):
    """The child writes half of the new log (old records + the round-2 record) to its temporary name
    and is killed: metrics.jsonl keeps every earlier byte and no torn line; the next run reads it."""
    run = str(tmp_path / 'run')
    log = os.path.join(run, 'metrics.jsonl')
    command = ['python', 'solve.py', 'voc-fcn32s', '--weights', twin.trunk, '--out', run, '--rounds', '1', '--steps', '1']
    # Killed writing the first record ('start'): no log under its name, half a log under a temporary one;
    # the run never completed a round, so the same command starts it again.
    status = fs.killed_at(command, dict(at='write', match='metrics.jsonl'), tmp_path, twins=twin.twins)
    assert status == -signal.SIGKILL
    assert not os.path.exists(log) and len(leftovers(run)) == 1 and os.path.getsize(atomic.leftovers(run)[0]) > 0
    done = fs.run(command, twins=twin.twins)
    assert done.returncode == 0 and events(run) == [('start', 0), ('round', 1)], done.stderr[-2000:]

    # A log with records, killed in the middle of the next append.
    run2 = str(tmp_path / 'run2')
    fs.run(command[:6] + [run2, '--rounds', '1', '--steps', '1'], twins=twin.twins)
    os.remove(os.path.join(run2, 'voc-fcn32s.caffemodel'))
    log2 = os.path.join(run2, 'metrics.jsonl')
    before = open(log2, 'rb').read()
    assert [e for e, _ in events(run2)] == ['start', 'round']
    status = fs.killed_at(['python', 'solve.py', 'voc-fcn32s', '--resume', run2, '--rounds', '2'],
                          dict(at='write', match='metrics.jsonl'), tmp_path, twins=twin.twins)
    assert status == -signal.SIGKILL
    assert open(log2, 'rb').read() == before  # no torn line: the log as it was
    assert len(leftovers(run2)) == 1
    # The same resume command goes on; the leftover is removed.
    done = fs.run(['python', 'solve.py', 'voc-fcn32s', '--resume', run2, '--rounds', '2'], twins=twin.twins)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'left by an interrupted write' in done.stdout and leftovers(run2) == []
    assert open(log2, 'rb').read().startswith(before)
    assert events(run2) == [('start', 0), ('round', 1), ('resume', 1), ('round', 2)]


# ---- case 8: `make <variant>` goes on after a kill by itself ---------------------------------------

def test_make_variant_resumes_an_interrupted_stage_from_its_last_complete_snapshot(twin, tmp_path):
    """What `make voc-fcn32s` runs (python -m caffe_fcn.train.chain voc-fcn32s), with runs/ and
    weights/ in a temporary folder: killed while snapshotting round 2, then run again as it was."""
    weights = tmp_path / 'weights'
    weights.mkdir()
    os.link(twin.trunk, str(weights / 'vgg16-fcn.caffemodel'))
    paths = dict(RUNS=str(tmp_path / 'runs'), WEIGHTS=str(weights))
    command = ['python', '-m', 'caffe_fcn.train.chain', 'voc-fcn32s', '--rounds', '3', '--steps', '1']
    status = fs.killed_at(command, dict(at='rename', match=model_name(2)), tmp_path, twins=twin.twins, paths=paths)
    assert status == -signal.SIGKILL
    run = str(tmp_path / 'runs' / 'voc-fcn32s')
    assert [it for it, _ in snapshot_states(run)] == [1]
    done = fs.run(command, twins=twin.twins, paths=paths)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'voc-fcn32s: resuming from %s (stage 1 of 1)' % os.path.relpath(
        os.path.join(run, 'snapshots', state_name(1)), fs.ROOT) in done.stdout
    assert events(run) == [('start', 0), ('round', 1), ('resume', 1), ('round', 2), ('round', 3)]
    assert os.path.isfile(os.path.join(run, 'voc-fcn32s.caffemodel')) and leftovers(os.path.join(run, 'snapshots')) == []
    # Done: the next make skips it.
    done = fs.run(command, twins=twin.twins, paths=paths)
    assert done.returncode == 0 and 'voc-fcn32s: trained, skipped' in done.stdout


# ---- case 3: a full disk while a snapshot is written --------------------------------------------

def test_full_disk_before_a_snapshot_is_refused_keeping_the_run_and_resume_goes_on_after_space_is_freed(twin, tmp_path):
    """A 24 MiB tmpfs holds round 1's snapshot of the twin (its upscore deconvolution alone is 21 x 21 x
    64 x 64 floats: 7 MiB per file) but not round 2's: Caffe would abort in HDF5 ("Failed to make float
    dataset"); the driver stops first, with the resume command, which works once there is room."""
    with fs.mounted_tmpfs(tmp_path / 'disk', '24m') as disk:
        run = os.path.join(disk, 'run')
        done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', run, '--rounds', '2', '--steps', '1',
                        twins=twin.twins)
        message = fs.error_line(done, SOLVE)
        # caffemodel and solverstate (SGD: one history blob per weight blob): 2 x 6.95 MiB of parameters
        assert message.startswith('the snapshot at iteration 2 needs about 13.9 MiB') and (
            'MiB in %s, which has ' % os.path.join(run, 'snapshots')) in message
        hint = fs.hint_after(message, 'then resume: ')
        assert hint == 'python solve.py %s --resume %s' % (twin.nets.net_dir, run)
        assert [it for it, _ in snapshot_states(run)] == [1] and events(run) == [('start', 0), ('round', 1)]
        assert leftovers(os.path.join(run, 'snapshots')) == []
        before = fs.tree(run)
        # A full disk under the metrics log: an append fails with the reason, the log is as it was.
        filler = os.path.join(disk, 'filler')
        subprocess.run(['dd', 'if=/dev/zero', 'of=' + filler, 'bs=1M', 'count=64'], capture_output=True)
        with pytest.raises(atomic.WriteError, match=r'cannot write %s: No space left on device; nothing there was '
                                                    r'replaced: free some space and run the same command again'
                           % os.path.join(run, 'metrics.jsonl')):
            metrics_log.append(os.path.join(run, 'metrics.jsonl'), {'event': 'note'})
        assert fs.tree(run) == before and leftovers(run) == []
        os.remove(filler)
        subprocess.run(['mount', '-o', 'remount,size=64m', disk], check=True)
        done = fs.run(hint, twins=twin.twins)
        assert done.returncode == 0, done.stderr[-2000:]
        assert events(run) == [('start', 0), ('round', 1), ('resume', 1), ('round', 2)]
        assert all(fs.tree(run)[path] == state for path, state in before.items() if 'snapshots' in path)
