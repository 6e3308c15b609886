"""`python -m caffe_fcn.nets VARIANT --layers`: a whole net on one screen, checked against facts of the
reference nets known by hand (VGG16's conv1_1 pad 100, the crop offsets 19, 5, 9, 27, 31 and AlexNet's 18)."""
import pytest

from caffe_fcn.nets.__main__ import main
from caffe_fcn.nets.registry import VARIANTS


def listing(capsys, *args):
    """(title, header words, {layer: the words of its line}) of the CLI's listing."""
    assert main(list(args) + ['--layers']) == 0
    title, header, *lines = capsys.readouterr().out.splitlines()
    return title, header.split(), {line.split()[0]: line.split() for line in lines}


def test_voc_fcn32s_lists_the_reference_geometry_with_relus_and_dropouts_folded(capsys):
    title, header, table = listing(capsys, 'voc-fcn32s')
    assert title == 'voc-fcn32s, train net'
    assert header == ['layer', 'type', 'k', 's', 'p', 'outputs', 'crop', 'inputs', 'then']
    assert list(table)[:4] == ['data', 'conv1_1', 'conv1_2', 'pool1'] and list(table)[-4:] == [
        'score_fr', 'upscore', 'score', 'loss']
    assert len(table) == 25  # data, 13 convolutions, 5 poolings, fc6, fc7, score_fr, upscore, score, loss
    assert table['data'] == ['data', 'Python', '->', 'data,', 'label']
    assert table['conv1_1'] == ['conv1_1', 'Convolution', '3', '1', '100', '64', 'relu']
    assert table['pool5'] == ['pool5', 'Pooling', 'MAX', '2', '2', '0']
    assert table['fc6'] == ['fc6', 'Convolution', '7', '1', '0', '4096', 'relu', 'dropout']
    assert table['score_fr'] == ['score_fr', 'Convolution', '1', '1', '0', '21']
    assert table['upscore'] == ['upscore', 'Deconvolution', '64', '32', '0', '21']
    assert table['score'] == ['score', 'Crop', '19', 'upscore,', 'data']
    assert table['loss'] == ['loss', 'SoftmaxWithLoss', 'score,', 'label']


def test_skip_crops_and_alexnet_offsets(capsys):
    _, _, fcn16s = listing(capsys, 'voc-fcn16s')
    assert fcn16s['score_pool4c'] == ['score_pool4c', 'Crop', '5', 'score_pool4,', 'upscore2']
    assert fcn16s['score'] == ['score', 'Crop', '27', 'upscore16,', 'data']
    _, _, fcn8s = listing(capsys, 'voc-fcn8s')
    assert fcn8s['score_pool3c'][2] == '9' and fcn8s['score'][2] == '31'
    assert fcn8s['score_pool4'] == ['score_pool4', 'Convolution', '1', '1', '0', '21', 'pool4']
    assert fcn8s['fuse_pool3'] == ['fuse_pool3', 'Eltwise', 'upscore_pool4,', 'score_pool3c']
    _, _, alexnet = listing(capsys, 'voc-fcn-alexnet')
    assert alexnet['conv1'] == ['conv1', 'Convolution', '11', '4', '100', '96', 'relu']
    assert alexnet['upscore'][2] == '63' and alexnet['score'] == ['score', 'Crop', '18', 'upscore,', 'data']


def test_googlenet_inception_modules_are_one_line_each_with_googlenets_output_widths(capsys):
    """GoogLeNet (Szegedy et al. 2014, Table 1): inception outputs 256, 480, 512, 512, 512, 528, 832,
    832, 1024; 3a's branches 64 | 96>128 | 16>32 | pool>32."""
    _, _, table = listing(capsys, 'voc-fcn-googlenet')
    modules = [name for name in table if name.startswith('inception_')]
    assert modules == ['inception_%s' % m for m in ('3a', '3b', '4a', '4b', '4c', '4d', '4e', '5a', '5b')]
    assert [int(table[m][8]) for m in modules] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert all(table[m][9] == 'relu' for m in modules)
    assert table['inception_3a'][1:9] == ['Inception(64', '|', '96>128', '|', '16>32', '|', 'pool>32)', '256']
    assert table['inception_5b'][-2:] == ['relu', 'dropout']
    assert table['score'] == ['score', 'Crop', '98', 'upscore,', 'data']


def test_deploy_net_listing_has_its_input_and_no_dropout_or_loss(capsys):
    title, _, table = listing(capsys, 'nets/voc-fcn32s', '--net', 'deploy')
    assert title == 'voc-fcn32s, deploy net'
    assert table['input'] == ['input', 'Input', '->', 'data'] and 'loss' not in table
    assert table['fc6'][-1] == 'relu'


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_every_training_net_fits_one_screen(name, capsys):
    _, _, table = listing(capsys, name)
    assert len(table) + 2 <= 50
