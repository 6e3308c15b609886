"""infer and score on ONNX Runtime (--engine onnxruntime) against the same commands on Caffe, the
reference: the same prediction PNGs pixel for pixel, so the same confusion matrices and metrics, and
the loss within float rounding; on narrow twins with random weights over fixture datasets."""
import json
import os

import numpy as np
import pytest
from PIL import Image

import train_fixtures
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.data.fixtures import write_siftflow
from caffe_fcn.evaluate import infer as infer_cli, score as score_cli
from caffe_fcn.evaluate.score import score
from caffe_fcn.export import engine
from caffe_fcn.export.variant_model import export_variant
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.train import metrics_log
from cli_support import assert_user_error
from test_evaluate_score import random_test_net


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Optimised copies of exported models go to this test's folder, not the user's cache."""
    monkeypatch.setenv('CAFFE_FCN_CACHE', str(tmp_path / 'cache'))


def twin_files(tmp_path, variant, net):
    """(net folder named like the variant, as the CLIs want it; the twin's weights)."""
    weights = save_weights(net, str(tmp_path / 'model.caffemodel'))
    return NetFiles.written(variant, str(tmp_path / variant.name)), weights


def png_arrays(folder):
    return {name: np.array(Image.open(os.path.join(folder, name))) for name in sorted(os.listdir(folder))}


def without_timing(scores):
    return {head: {k: v for k, v in s.items() if k not in ('seconds', 'loss')} for head, s in scores.items()}


def stand_in(monkeypatch, cli_module, nets):
    """The CLI reads nets/<variant>; the twin's files stand in for the registered variant's."""
    monkeypatch.setattr(cli_module, 'NetFiles', lambda variant: NetFiles(variant, nets.net_dir))


def test_score_cli_on_onnx_runtime_gives_caffes_predictions_and_confusion_matrix(tmp_path, capsys, monkeypatch):
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC', {'train': 1, 'val': 4})
    variant = train_fixtures.voc_twin('voc-fcn8s', fixture)
    _, net = random_test_net(tmp_path, variant)
    nets, weights = twin_files(tmp_path, variant, net)
    stand_in(monkeypatch, score_cli, nets)
    runs = {}
    for name in engine.ENGINES:
        out = tmp_path / name
        assert score_cli.main(['voc-fcn8s', '--weights', weights, '--engine', name, '--out', str(out),
                               '--save-predictions']) == 0
        (record,) = metrics_log.read(str(out / metrics_log.LOG_NAME))
        runs[name] = record['scores'], png_arrays(out / 'predictions')
    (caffe_scores, caffe_pngs), (ort_scores, ort_pngs) = runs['caffe'], runs['onnxruntime']
    assert len(caffe_pngs) == 4 and sorted(caffe_pngs) == sorted(ort_pngs)
    for name in caffe_pngs:
        np.testing.assert_array_equal(ort_pngs[name], caffe_pngs[name])
    # Every metric (all read off the confusion matrix) identical; the loss to float rounding.
    assert without_timing(ort_scores) == without_timing(caffe_scores)
    assert len(set(caffe_pngs[name].tobytes() for name in caffe_pngs)) > 1  # predictions vary across images
    assert ort_scores['semantic']['loss'] == pytest.approx(caffe_scores['semantic']['loss'], rel=1e-5)
    capsys.readouterr()


def test_two_headed_scoring_on_onnx_runtime_equals_caffe_per_head(tmp_path):
    fixture = write_siftflow(str(tmp_path / 'siftflow'), {'trainval': 1, 'test': 3})
    variant = train_fixtures.siftflow_twin('siftflow-fcn16s', fixture)
    _, net = random_test_net(tmp_path, variant)
    nets, weights = twin_files(tmp_path, variant, net)
    ort_net, _ = engine.test_net(nets, weights, engine='onnxruntime')
    caffe_scores, ort_scores = score(net, variant.outputs), score(ort_net, variant.outputs)
    assert without_timing(ort_scores) == without_timing(caffe_scores)
    for head in ('semantic', 'geometric'):  # SIFT Flow's test net sums its loss (normalize: false)
        assert ort_scores[head]['loss'] == pytest.approx(caffe_scores[head]['loss'], rel=1e-5)


def test_softmax_loss_is_caffes_for_hand_computed_scores():
    # Two classes, 1x2 pixels: scores (0, ln 3) -> p = (1/4, 3/4), then (0, 0) -> p = (1/2, 1/2).
    scores = np.array([[[0.0, 0.0]], [[np.log(3.0), 0.0]]])
    label = np.array([[1, 255]])
    assert engine.softmax_loss(scores, label, 255, valid=False) == pytest.approx(-np.log(0.75))
    both = np.array([[1, 0]])
    assert engine.softmax_loss(scores, both, None, valid=True) == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2)


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory):
    folder = tmp_path_factory.mktemp('fcn8s')
    fixture = train_fixtures.voc_fixture(folder / 'VOC', {'train': 1, 'val': 1})
    variant = train_fixtures.voc_twin('voc-fcn8s', fixture)
    _, net = random_test_net(folder, variant, seed=2)
    nets, weights = twin_files(folder, variant, net)
    return nets, weights, export_variant(nets, weights, str(folder / 'onnx'))


def test_infer_cli_on_onnx_runtime_writes_caffes_pngs_from_a_caffemodel_or_the_exported_file(fcn8s, tmp_path,
                                                                                             monkeypatch):
    nets, weights, exported = fcn8s
    stand_in(monkeypatch, infer_cli, nets)
    rng = np.random.default_rng(0)
    image = str(tmp_path / 'photo.jpg')
    Image.fromarray(rng.integers(0, 256, (83, 129, 3), dtype=np.uint8)).save(image)
    for out, model, name in [('caffe', weights, 'caffe'), ('converted', weights, 'onnxruntime'),
                             ('exported', exported, 'onnxruntime')]:
        assert infer_cli.main(['voc-fcn8s', image, '--weights', model, '--out', str(tmp_path / out),
                               '--engine', name]) == 0
    caffe_pngs = png_arrays(tmp_path / 'caffe')
    assert sorted(caffe_pngs) == ['photo.png', 'photo_overlay.png']
    assert len(np.unique(caffe_pngs['photo.png'])) > 1
    for out in ('converted', 'exported'):
        ours = png_arrays(tmp_path / out)
        for name in caffe_pngs:
            np.testing.assert_array_equal(ours[name], caffe_pngs[name])


def test_engine_mismatches_are_one_line_errors(fcn8s, tmp_path, capsys, monkeypatch):
    nets, weights, exported = fcn8s
    stand_in(monkeypatch, infer_cli, nets)
    image = str(tmp_path / 'photo.jpg')
    Image.fromarray(np.zeros((20, 20, 3), dtype=np.uint8)).save(image)
    base = ['voc-fcn8s', image, '--out', str(tmp_path / 'out')]
    prog = 'python -m caffe_fcn.evaluate.infer'
    assert_user_error(infer_cli.main(base + ['--weights', exported]), capsys, prog,
                      'voc-fcn8s.onnx is an ONNX model: run it with --engine onnxruntime')
    fcn16s = train_fixtures.voc_twin('voc-fcn16s', train_fixtures.voc_fixture(tmp_path / 'V'))
    with pytest.raises(engine.EngineError, match='exported from variant voc-fcn8s, not voc-fcn16s'):
        engine.deploy_net(NetFiles(fcn16s, nets.net_dir), exported, engine='onnxruntime')
    assert_user_error(infer_cli.main(base + ['--weights', exported, '--engine', 'onnxruntime', '--gpu', '0']), capsys,
                      prog, 'GPU 0 requested, but this onnxruntime .* has no CUDA provider')
    assert not os.path.exists(tmp_path / 'out')
    meta = json.loads(engine.deploy_net(nets, exported, engine='onnxruntime').session.get_modelmeta()
                      .custom_metadata_map['inputs'])
    assert meta['data']['mean'] == list(train_fixtures.MEAN)
