"""Scoring a test net over its whole split, against an independent numpy scoring of Caffe's own
forward passes, on narrow twins and fixture data: metrics from boolean masks, loss from a numpy
softmax, SIFT Flow's two heads, saved predictions, and the score CLI."""
import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

import train_fixtures
from cli_support import assert_user_error
from caffe_fcn.evaluate import compare, score as score_cli
from caffe_fcn.train import metrics_log
from caffe_fcn.backend import select_device
from caffe_fcn.data.fixtures import write_siftflow
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.evaluate.score import ScoreError, score
from caffe_fcn.backend.weights import read_weights, save_weights
from caffe_fcn.surgery.stages import init_variant

caffe = select_device()


def random_test_net(tmp_path, variant, seed=0):
    """The twin's test net: random trunk, random score layers (so predictions vary), bilinear deconvolutions."""
    nets = NetFiles.written(variant, str(tmp_path / 'nets'))
    net = caffe.Net(nets.proto(variant.test_split), caffe.TEST)
    init_variant(variant, net, [read_weights(train_fixtures.random_fcn_trunk(tmp_path / 'trunk.caffemodel', seed=seed))])
    rng = np.random.RandomState(seed)
    for name in net.params:
        if name.startswith('score'):
            net.params[name][0].data[...] = rng.randn(*net.params[name][0].data.shape)
            net.params[name][1].data[...] = rng.randn(*net.params[name][1].data.shape)
    return nets, net


def numpy_softmax_loss(scores, label, normalize):
    """SoftmaxWithLoss, ignore_label 255: summed over labelled pixels, or their mean when normalized."""
    scores = scores.astype(np.float64)
    log_prob = scores - scores.max(axis=0) - np.log(np.exp(scores - scores.max(axis=0)).sum(axis=0))
    keep = label != 255
    rows, cols = np.nonzero(keep)
    total = -log_prob[label[keep].astype(int), rows, cols].sum()
    return total / keep.sum() if normalize else total


def independent_pass(net, output, n_images, normalize):
    """Forward each image once and score it without caffe_fcn.evaluate.metrics: masks, unions, numpy loss."""
    labels, predictions, losses = [], [], []
    for _ in range(n_images):
        net.forward()
        s = net.blobs[output.score].data[0].copy()
        label = net.blobs[output.label].data[0, 0].copy()
        labels.append(label.ravel())
        predictions.append(s.argmax(axis=0).ravel())
        losses.append(numpy_softmax_loss(s, label, normalize))
    label, prediction = np.concatenate(labels), np.concatenate(predictions)
    scored = label != 255
    iu = {}
    for c in range(output.classes):
        truth, guess = (label == c) & scored, (prediction == c) & scored
        if truth.any():
            iu[c] = (truth & guess).sum() / (truth | guess).sum()
    return iu, (label == prediction)[scored].mean(), np.mean(losses)


def test_voc_scores_equal_independent_numpy_scoring_of_the_same_forwards(tmp_path):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture)
    nets, net = random_test_net(tmp_path, variant)
    (output,) = variant.outputs
    ours = score(net, variant.outputs)['semantic']
    # The layer reads the split in file order and wraps: the next pass sees the same images.
    iu, pixel_accuracy, loss = independent_pass(net, output, len(fixture.splits['val']), normalize=True)
    assert ours['images'] == len(fixture.splits['val'])
    assert sorted(iu) == [0, 15] and ours['absent_classes'] == [c for c in range(21) if c not in iu]
    assert [ours['per_class_iu'][c] for c in iu] == pytest.approx(list(iu.values()))
    assert ours['mean_iu'] == pytest.approx(np.mean(list(iu.values())))
    assert ours['pixel_accuracy'] == pytest.approx(pixel_accuracy)
    assert ours['loss'] == pytest.approx(loss, rel=1e-4)


def test_siftflow_scores_each_head_with_its_own_loss_blob(tmp_path):
    fixture = write_siftflow(str(tmp_path / 'siftflow'), {'trainval': 2, 'test': 3})
    variant = train_fixtures.siftflow_twin('siftflow-fcn32s', fixture)
    nets, net = random_test_net(tmp_path, variant)
    ours = score(net, variant.outputs)
    assert list(ours) == ['semantic', 'geometric']
    semantic, geometric = variant.outputs
    assert (geometric.score, geometric.label, geometric.loss) == ('score_geo', 'geo', 'loss_geo')
    for output in variant.outputs:
        iu, pixel_accuracy, loss = independent_pass(net, output, 3, normalize=False)
        assert ours[output.name]['pixel_accuracy'] == pytest.approx(pixel_accuracy)
        assert ours[output.name]['mean_iu'] == pytest.approx(np.mean(list(iu.values())))
        assert ours[output.name]['loss'] == pytest.approx(loss, rel=1e-4)
    assert ours['geometric']['loss'] != pytest.approx(ours['semantic']['loss'], rel=1e-2)
    assert len(ours['geometric']['per_class_iu']) == 3 and len(ours['semantic']['per_class_iu']) == 33


def test_predictions_are_palette_pngs_of_the_argmax_in_an_existing_folder_never_overwritten(tmp_path):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture)
    nets, net = random_test_net(tmp_path, variant, seed=1)
    folder = tmp_path / 'predictions'
    folder.mkdir()
    (folder / 'notes.txt').write_text('kept')
    score(net, variant.outputs, save_dir=str(folder))
    ids = fixture.splits['val']
    assert sorted(os.listdir(folder)) == sorted([i + '.png' for i in ids] + ['notes.txt'])
    for sample_id in ids:  # the net reads them in this order
        net.forward()
        image = Image.open(folder / (sample_id + '.png'))
        assert image.mode == 'P' and image.getpalette()[15 * 3:16 * 3] == [192, 128, 128]
        np.testing.assert_array_equal(np.array(image), net.blobs['score'].data[0].argmax(axis=0))
    with pytest.raises(ScoreError, match='already exist.*not overwriting'):
        score(net, variant.outputs, save_dir=str(folder))


def test_random_split_missing_blob_and_wrong_class_count_are_clear_errors(tmp_path):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture)
    nets, net = random_test_net(tmp_path, variant)
    (output,) = variant.outputs
    with pytest.raises(ScoreError, match="no loss blob 'loss_geo' for output 'semantic'"):
        score(net, [output.__class__('semantic', 'score', 'label', 'loss_geo', 21)])
    with pytest.raises(ScoreError, match="score blob 'score' has 21 channels but output 'semantic' has 33"):
        score(net, [output.__class__('semantic', 'score', 'label', 'loss', 33)])
    train_net = caffe.Net(nets.proto('train'), caffe.TEST)
    with pytest.raises(ScoreError, match="split 'train' is sampled at random"):
        score(train_net, variant.outputs)


def test_score_cli_scores_a_caffemodel_on_a_chosen_split_and_logs_it_for_compare(tmp_path, capsys, monkeypatch):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    variant = train_fixtures.voc_twin('voc-fcn32s', fixture)
    nets, net = random_test_net(tmp_path, variant)
    weights = save_weights(net, str(tmp_path / 'model.caffemodel'))
    # The CLI reads nets/voc-fcn32s; here the twin's files stand in for the registered variant's.
    monkeypatch.setattr(score_cli, 'NetFiles', lambda v: NetFiles(v, nets.net_dir))
    out_dir = tmp_path / 'scored'
    assert score_cli.main(['voc-fcn32s', '--weights', weights, '--split', 'test', '--out', str(out_dir),
                           '--save-predictions']) == 0
    out = capsys.readouterr().out
    assert out.startswith('voc-fcn32s on test, weights %s\nsemantic: pixel accuracy ' % weights)
    (record,) = metrics_log.read(str(out_dir / 'metrics.jsonl'))
    assert (record['event'], record['split'], record['scores']['semantic']['images']) == ('score', 'test', 3)
    assert sorted(os.listdir(out_dir / 'predictions')) == sorted(i + '.png' for i in fixture.splits['test'])
    compare.main([str(out_dir)])
    assert 'no published number for voc-fcn32s (semantic) on test' in capsys.readouterr().out
    prog = 'python -m caffe_fcn.evaluate.score'
    status = score_cli.main(['voc-fcn32s', '--weights', str(tmp_path / 'absent.caffemodel')])
    assert_user_error(status, capsys, prog, 'weights file .*absent.caffemodel does not exist')
    status = score_cli.main(['voc-fcn32s', '--weights', weights, '--split', 'test', '--out', str(out_dir),
                             '--save-predictions'])
    assert_user_error(status, capsys, prog, r'prediction file\(s\) already exist.*not overwriting')

    # The same weights as an HDF5 snapshot (what runs write) score the same; a misfit is named.
    net.save_hdf5(str(tmp_path / 'model.caffemodel.h5'))
    score_cli.main(['voc-fcn32s', '--weights', str(tmp_path / 'model.caffemodel.h5'), '--split', 'test'])
    assert capsys.readouterr().out.splitlines()[1:] == out.splitlines()[1:-1]  # all but 'appended to ...'
    wide = dataclasses.replace(variant, widths=(4, 4, 8, 8, 8, 32))
    wide_net = caffe.Net(NetFiles.written(wide, str(tmp_path / 'wide')).proto('deploy'), caffe.TEST)
    wide_net.save_hdf5(str(tmp_path / 'wide.caffemodel.h5'))
    status = score_cli.main(['nets/voc-fcn32s', '--weights', str(tmp_path / 'wide.caffemodel.h5')])
    assert_user_error(status, capsys, prog,
                      r"wide.caffemodel.h5: layer 'fc6' holds blobs of shapes \[\(32, 8, 7, 7\), \(32,\)\]")
