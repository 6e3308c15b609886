"""Fault corpus, bad input: each command a user types with a bad prototxt, a bad --resume, an output
that cannot be written, or weights of another variant ends in one line naming the file, layer or
parameter and what to do (exit status 1, no C++ abort), and every file that was there is unchanged."""
import os
import shutil

import numpy as np
import pytest

import fault_support as fs
import train_fixtures
from caffe_fcn.backend import net_from_proto, select_device
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.surgery import interp
from caffe_fcn.train.solve import train

select_device()


@pytest.fixture(scope='module')
def twin(tmp_path_factory):
    """A TwinRun with a run (2 rounds of 2 iterations) in <folder>/run, its final model moved away to
    <folder>/final.caffemodel (so that the run may be resumed)."""
    twin = fs.TwinRun(tmp_path_factory.mktemp('faults-inputs'))
    twin.run = twin.trained(twin.folder / 'run')
    twin.final = str(twin.folder / 'final.caffemodel')
    os.rename(os.path.join(twin.run, 'voc-fcn32s.caffemodel'), twin.final)
    twin.state = os.path.join(twin.run, 'snapshots', 'voc-fcn32s_iter_4.solverstate.h5')
    twin.image = os.path.join(twin.fixture.root, 'JPEGImages', twin.fixture.splits['val'][0] + '.jpg')
    return twin


def misspelt_copy(twin, folder, net):
    """({voc-fcn32s: a copy of the twin's net folder}, the `net` prototxt in it, whose conv1_1 has the
    type "Convolutoin")."""
    shutil.copytree(twin.nets.net_dir, str(folder))
    path = os.path.join(str(folder), net + '.prototxt')
    text = open(path).read()
    assert text.count('type: "Convolution"') > 1
    with open(path, 'w') as f:
        f.write(text.replace('type: "Convolution"', 'type: "Convolutoin"', 1))
    return {'voc-fcn32s': str(folder)}, path


SOLVE, SCORE, INFER = 'python solve.py', 'caffe_fcn.evaluate.score', 'caffe_fcn.evaluate.infer'
EXPECTED_TYPE_ERROR = ("%s: layer 'conv1_1' has type 'Convolutoin', which this Caffe does not know: did you mean "
                       "'Convolution'?; fix the type in %s")


# ---- case 1: an unknown layer type, in score, infer and solve ----------------------------------------

def test_unknown_layer_type_in_score_names_file_layer_and_the_close_type(twin, tmp_path):
    twins, path = misspelt_copy(twin, tmp_path / 'voc-fcn32s', 'val')
    before = fs.tree(tmp_path, twin.run)
    done = fs.cli(SCORE, 'voc-fcn32s', '--weights', twin.final, '--out', str(tmp_path / 'scores'), twins=twins)
    assert fs.error_line(done, 'python -m ' + SCORE) == EXPECTED_TYPE_ERROR % (path, path)
    assert fs.tree(tmp_path, twin.run) == before


def test_unknown_layer_type_in_infer_writes_nothing(twin, tmp_path):
    twins, path = misspelt_copy(twin, tmp_path / 'voc-fcn32s', 'deploy')
    before = fs.tree(tmp_path, twin.run)
    done = fs.cli(INFER, 'voc-fcn32s', twin.image, '--weights', twin.final, '--out', str(tmp_path / 'out'), twins=twins)
    assert fs.error_line(done, 'python -m ' + INFER) == EXPECTED_TYPE_ERROR % (path, path)
    assert fs.tree(tmp_path, twin.run) == before and not os.path.exists(tmp_path / 'out')


def test_unknown_layer_type_in_solve_leaves_no_run_folder(twin, tmp_path):
    twins, path = misspelt_copy(twin, tmp_path / 'voc-fcn32s', 'train')
    before = fs.tree(tmp_path)
    done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', str(tmp_path / 'run'), twins=twins)
    assert fs.error_line(done, SOLVE) == EXPECTED_TYPE_ERROR % (path, path)
    assert fs.tree(tmp_path) == before and not os.path.exists(tmp_path / 'run')


def test_bottom_that_no_layer_makes_and_unknown_solver_type_are_named_before_caffe(twin, tmp_path):
    shutil.copytree(twin.nets.net_dir, str(tmp_path / 'voc-fcn32s'))
    twins = {'voc-fcn32s': str(tmp_path / 'voc-fcn32s')}
    deploy = str(tmp_path / 'voc-fcn32s' / 'deploy.prototxt')
    text = open(deploy).read()
    with open(deploy, 'w') as f:
        f.write(text.replace('bottom: "pool5"', 'bottom: "pool_5"', 1))
    done = fs.cli(INFER, 'voc-fcn32s', twin.image, '--weights', twin.final, '--out', str(tmp_path / 'out'), twins=twins)
    assert fs.error_line(done, 'python -m ' + INFER).startswith(
        "%s: layer 'fc6' reads bottom 'pool_5', which no layer before it makes (tops so far: " % deploy)
    solver = str(tmp_path / 'voc-fcn32s' / 'solver.prototxt')
    with open(solver, 'a') as f:
        f.write('type: "Adma"\n')
    done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', str(tmp_path / 'run'), twins=twins)
    assert fs.error_line(done, SOLVE) == "%s: solver type 'Adma' is not one of Caffe's: did you mean 'Adam'?" % solver
    assert not os.path.exists(tmp_path / 'run') and not os.path.exists(tmp_path / 'out')


# ---- case 2: --resume given something that is not this run's solverstate -------------------------

def test_resume_with_a_caffemodel_says_to_start_from_it_with_weights(twin):
    model = twin.state[:-len('.solverstate.h5')] + '.caffemodel.h5'
    before = fs.tree(twin.run)
    done = fs.solve('voc-fcn32s', '--resume', model, '--rounds', '3', twins=twin.twins)
    assert fs.error_line(done, SOLVE) == (
        '--resume %s is a caffemodel (weights only), not a solverstate: start a fresh run from it with '
        '--weights %s, or resume from the .solverstate.h5 beside it' % (model, model))
    assert fs.tree(twin.run) == before


def test_resume_with_a_text_file_or_a_renamed_solverstate_names_what_to_pass(twin, tmp_path):
    snapshots = os.path.join(twin.run, 'snapshots')
    text = os.path.join(snapshots, 'voc-fcn32s_iter_9.solverstate.h5')
    renamed = os.path.join(snapshots, 'voc-fcn32s_iter_4.solverstate')
    with open(text, 'w') as f:
        f.write('iter: 9\n')
    shutil.copyfile(twin.state, renamed)
    try:
        before = fs.tree(twin.run)
        done = fs.solve('voc-fcn32s', '--resume', text, '--rounds', '3', twins=twin.twins)
        assert fs.error_line(done, SOLVE) == (
            '--resume %s is not an HDF5 solverstate (the snapshots this driver takes); resume from a '
            'voc-fcn32s_iter_<N>.solverstate.h5 in the snapshots/ folder of a run of voc-fcn32s' % text)
        done = fs.solve('voc-fcn32s', '--resume', renamed, '--rounds', '3', twins=twin.twins)
        assert fs.error_line(done, SOLVE) == (
            '--resume %s is an HDF5 solverstate, but Caffe reads a solverstate as HDF5 only when its name '
            'ends in .h5: rename it to %s.h5 and pass that' % (renamed, renamed))
        assert fs.tree(twin.run) == before
    finally:
        os.remove(text)
        os.remove(renamed)


def test_resume_with_a_solverstate_of_another_stage(twin, tmp_path):
    """A voc-fcn16s run's solverstate: refused by its run's log, and, copied under a 32s name into this
    run, by its history blobs (Caffe: "Incorrect length of history blobs", exit 134)."""
    stage = train_fixtures.voc_twin('voc-fcn16s', twin.fixture, rounds=1, steps=1)
    nets16 = NetFiles.written(stage, str(tmp_path / 'nets' / 'voc-fcn16s'))
    run16 = str(tmp_path / 'run16')
    train(stage, nets16, run16, weights=[twin.final], **fs.QUIET)
    state16 = os.path.join(run16, 'snapshots', 'voc-fcn16s_iter_1.solverstate.h5')
    before = fs.tree(twin.run, run16)
    done = fs.solve('voc-fcn32s', '--resume', state16, twins=twin.twins)
    hint = 'python solve.py %s --resume %s' % (nets16.net_dir, state16)
    assert fs.error_line(done, SOLVE) == (
        '--resume %s: the run in %s trains voc-fcn16s, not voc-fcn32s: resume it as %s' % (state16, run16, hint))
    # The hint works as printed: the 16s run goes on (one more round, --rounds 2).
    os.rename(os.path.join(run16, 'voc-fcn16s.caffemodel'), str(tmp_path / 'final16.caffemodel'))
    resumed = fs.run(hint + ' --rounds 2', twins={'voc-fcn16s': nets16.net_dir})
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert os.path.exists(os.path.join(run16, 'snapshots', 'voc-fcn16s_iter_2.solverstate.h5'))
    disguised = os.path.join(twin.run, 'snapshots', 'voc-fcn32s_iter_1.solverstate.h5')
    model16, disguised_model = (p[:-len('.solverstate.h5')] + '.caffemodel.h5' for p in (state16, disguised))
    shutil.copyfile(state16, disguised)
    shutil.copyfile(model16, disguised_model)
    before = fs.tree(twin.run)
    try:
        done = fs.solve('voc-fcn32s', '--resume', disguised, twins=twin.twins)
        assert fs.error_line(done, SOLVE) == (
            # FCN-32s: 15 convolutions with a bias each, score_fr, upscore (no bias) = 33 blobs; FCN-16s adds
            # score_pool4 (2) and upscore2 (1). SGD keeps one history blob per learnable blob.
            '--resume %s holds 36 history blobs, the training net of voc-fcn32s needs 33 (33 learnable '
            'blobs): it is a snapshot of another variant or stage; resume from a voc-fcn32s_iter_<N>.solverstate.h5 '
            'in the snapshots/ folder of a run of voc-fcn32s' % disguised)
        assert fs.tree(twin.run) == before
    finally:
        os.remove(disguised)
        os.remove(disguised_model)


# ---- case 3: outputs that cannot be written, refused before the work ------------------------------

def test_surgery_init_into_a_read_only_folder_is_refused_before_any_surgery(twin, tmp_path):
    with fs.read_only_folder(tmp_path / 'ro') as ro:
        done = fs.cli('caffe_fcn.surgery', 'init', 'voc-fcn16s', '--weights', twin.final, '--out', ro)
        line = fs.error_line(done, 'python -m caffe_fcn.surgery')
        assert line.startswith('--out %s: ' % ro) and line.endswith('; choose another --out'), line
        assert os.listdir(ro) == []


def test_score_out_in_a_read_only_folder_is_refused_before_scoring_and_a_missing_one_made(twin, tmp_path):
    with fs.read_only_folder(tmp_path / 'ro') as ro:
        out = os.path.join(ro, 'scores')
        done = fs.cli(SCORE, 'voc-fcn32s', '--weights', twin.final, '--out', out, twins=twin.twins)
        line = fs.error_line(done, 'python -m ' + SCORE)
        assert line.startswith('--out %s: ' % out) and line.endswith('choose another --out'), line
        assert 'scored' not in done.stderr, 'refused only after scoring'
    out = str(tmp_path / 'missing' / 'scores')
    done = fs.cli(SCORE, 'voc-fcn32s', '--weights', twin.final, '--out', out, twins=twin.twins)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith('appended to %s' % os.path.join(out, 'metrics.jsonl'))


def test_infer_plot_and_solve_outputs_in_a_read_only_folder_are_refused_first(twin, tmp_path):
    before = fs.tree(twin.run)
    with fs.read_only_folder(tmp_path / 'ro') as ro:
        out = os.path.join(ro, 'labels')
        done = fs.cli(INFER, 'voc-fcn32s', twin.image, '--weights', twin.final, '--out', out, twins=twin.twins)
        assert fs.error_line(done, 'python -m ' + INFER).startswith('--out %s: ' % out)
        done = fs.cli('caffe_fcn.evaluate.plot', twin.run, '--out', ro)
        assert fs.error_line(done, 'python -m caffe_fcn.evaluate.plot').startswith('--out %s: ' % ro)
        done = fs.solve('voc-fcn32s', '--weights', twin.trunk, '--out', os.path.join(ro, 'run'), twins=twin.twins)
        assert fs.error_line(done, SOLVE).startswith('--out %s: ' % os.path.join(ro, 'run'))
        assert os.listdir(ro) == []
    assert fs.tree(twin.run) == before


# ---- case 12: weights holding layers the net lacks ----------------------------------------------

def test_weights_of_another_variant_are_refused_by_infer_and_score_unless_allowed(twin, tmp_path):
    """voc-fcn8s-atonce weights hold scale_pool4/scale_pool3 that voc-fcn8s lacks; Caffe would ignore them."""
    atonce = train_fixtures.voc_twin('voc-fcn8s-atonce', twin.fixture)
    net = net_from_proto(net_proto(atonce, 'deploy'))
    rng = np.random.RandomState(0)
    for blobs in net.params.values():
        for blob in blobs:
            blob.data[...] = rng.randn(*blob.data.shape) * 0.1
    interp(net)
    weights = save_weights(net, str(tmp_path / 'atonce.caffemodel'))
    fcn8s = NetFiles.written(train_fixtures.voc_twin('voc-fcn8s', twin.fixture), str(tmp_path / 'nets' / 'voc-fcn8s'))
    twins = {'voc-fcn8s': fcn8s.net_dir}
    expected = ('%s holds layers with parameters that the net lacks (scale_pool4, scale_pool3): weights of another '
                'variant, whose result would differ from that variant\'s; pass its own weights, or --allow-extra-layers '
                'to ignore those layers (%s expects weights of variant voc-fcn8s)' % (weights, fcn8s.net_dir))
    before = fs.tree(tmp_path)
    done = fs.cli(INFER, 'voc-fcn8s', twin.image, '--weights', weights, '--out', str(tmp_path / 'out'), twins=twins)
    assert fs.error_line(done, 'python -m ' + INFER) == expected
    done = fs.cli(SCORE, 'voc-fcn8s', '--weights', weights, twins=twins)
    assert fs.error_line(done, 'python -m ' + SCORE) == expected
    assert fs.tree(tmp_path) == before
    done = fs.cli(INFER, 'voc-fcn8s', twin.image, '--weights', weights, '--out', str(tmp_path / 'out'),
                  '--allow-extra-layers', twins=twins)
    assert done.returncode == 0 and len(os.listdir(tmp_path / 'out')) == 2, done.stderr
