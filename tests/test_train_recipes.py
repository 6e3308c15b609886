"""Training profiles: the release's heavy recipe stays the default; the paper's (CVPR 4.3) changes
the solver and loss as the paper says, on the splits of Table 1 or Table 2, into its own run folder."""
import os

import pytest

import train_fixtures
from caffe_fcn.nets import build
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import VARIANTS, get_variant
from caffe_fcn import paths
from caffe_fcn.train import chain, metrics_log, prerequisites
from caffe_fcn.train.recipes import RecipeError, with_profile
from caffe_fcn.train.solve import train

# CVPR 4.3: momentum 0.9, 20 images a batch, 1e-3 AlexNet / 1e-4 VGG16 / 5e-5 GoogLeNet, and (4.2)
# each skip stage at a rate 100 times lower than the net it starts from; weight decay "5^-4 or 2^-4".
PAPER = {  # variant: (base_lr, weight decay, default table)
    'voc-fcn-alexnet': (1e-3, 5e-4, 1),
    'voc-fcn-googlenet': (5e-5, 2e-4, 1),
    'voc-fcn32s': (1e-4, 5e-4, 2),
    'voc-fcn32s-fixed': (1e-4, 5e-4, 2),
    'voc-fcn16s': (1e-6, 5e-4, 2),
    'voc-fcn8s': (1e-8, 5e-4, 2),
}
TABLE_SPLITS = {1: (('caffe_fcn.data.voc', 'data/pascal/VOC2011', 'train'), ('caffe_fcn.data.voc', 'data/pascal/VOC2011', 'val')),
                2: (('caffe_fcn.data.sbd', 'data/sbd/dataset', 'train'), ('caffe_fcn.data.voc', 'data/pascal/VOC2011', 'seg11valid'))}


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_heavy_is_the_registry_itself(name):
    v = get_variant(name)
    assert with_profile(v) is v and with_profile(v, 'heavy', 2) is v and v.profile == 'heavy'


def splits(v):
    def where(spec):
        folder = spec.params.get('voc_dir') if spec.module.endswith('voc') else spec.params['sbd_dir']
        return spec.module, folder, spec.params['split']
    return where(v.data[v.train_split]), where(v.data[v.test_split])


@pytest.mark.parametrize('name', sorted(PAPER))
def test_paper_recipe_solver_loss_and_default_table(name):
    base_lr, decay, table = PAPER[name]
    v = with_profile(get_variant(name), 'paper')
    s = build.solver_proto(v)
    assert (s.base_lr, s.momentum, s.iter_size, s.weight_decay, s.lr_policy) == (
        pytest.approx(base_lr), pytest.approx(0.9), 20, pytest.approx(decay), 'fixed')
    assert v.profile == 'paper-table%d' % table and splits(v) == TABLE_SPLITS[table]
    loss = [l for l in build.net_proto(v, 'train').layer if l.type == 'SoftmaxWithLoss']
    assert [l.loss_param.normalize for l in loss] == [True]


@pytest.mark.parametrize('recipe', ['heavy', 'paper'])
def test_table_1_reads_voc2011_train_and_val_whichever_the_recipe(recipe):
    v = with_profile(get_variant('voc-fcn32s'), recipe, 1)
    assert splits(v) == TABLE_SPLITS[1] and v.profile == '%s-table1' % recipe
    assert build.solver_proto(v).test_iter == [1111]
    assert build.solver_proto(v).base_lr == pytest.approx(1e-10 if recipe == 'heavy' else 1e-4)


@pytest.mark.parametrize('name, recipe, table, message', [
    ('nyud-fcn32s-color', 'paper', None, "recipes and tables are the VOC variants'"),
    ('siftflow-fcn16s', 'heavy', 1, "recipes and tables are the VOC variants'"),
    ('voc-fcn8s-atonce', 'paper', None, 'not in the CVPR paper'),
    ('voc-fcn32s', 'adam', None, "unknown recipe 'adam'"),
    ('voc-fcn32s', 'paper', 3, 'unknown table 3'),
])
def test_profiles_outside_the_paper_are_refused(name, recipe, table, message):
    with pytest.raises(RecipeError, match=message):
        with_profile(get_variant(name), recipe, table)


def test_a_paper_chain_trains_into_its_own_folders_and_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'RUNS', str(tmp_path / 'runs'))
    monkeypatch.setattr(prerequisites, 'missing_data', lambda variant: {})
    assert chain.remaining('voc-fcn8s', 'paper', 2) == ([], ['voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s'])
    model = tmp_path / 'runs' / 'paper-table2' / 'voc-fcn16s' / 'voc-fcn16s.caffemodel'
    assert prerequisites.missing([chain.profiled('voc-fcn8s', 'paper', 2)]) == [
        '%s does not exist (needed to start voc-fcn8s): run `make voc-fcn16s SOLVE_ARGS="--recipe paper '
        '--table 2"`' % model]
    os.makedirs(model.parent)
    model.write_bytes(b'')
    assert chain.remaining('voc-fcn8s', 'paper', 2) == (['voc-fcn16s'], ['voc-fcn8s'])
    assert chain.remaining('voc-fcn8s') == ([], ['voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s'])  # heavy: runs/<name>


def test_a_paper_run_generates_its_nets_and_logs_its_profile(tmp_path):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(tmp_path / 'trunk.caffemodel')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture, rounds=1, steps=1)
    nets = NetFiles.written(variant, str(tmp_path / 'nets'))
    run = tmp_path / 'run'
    train(variant, nets, str(run), weights=[trunk], recipe='paper', say=lambda line: None)
    log = metrics_log.read(str(run / 'metrics.jsonl'))
    assert (log[0]['profile'], log[0]['recipe'], log[0]['train_split']) == ('paper-table2', 'paper', 'train')
    assert 'iter_size: 20' in log[0]['solver'] and 'momentum: 0.9\n' in log[0]['solver']
    assert 'base_lr: 0.0001' in log[0]['solver']
    assert log[-1]['event'] == 'round' and log[-1]['profile'] == 'paper-table2'
    assert 'normalize: true' in (run / 'nets' / 'train.prototxt').read_text()
