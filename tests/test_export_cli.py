"""python -m caffe_fcn.export: the files it writes (through temporary names, never over existing ones),
what the model says about its inputs, and one-line errors for bad weights."""
import json
import os

import numpy as np
import onnx
import pytest

from caffe_fcn.export import __main__ as export_cli
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.export.describe import preprocessing, read_metadata
from caffe_fcn.export.runtime import forward, optimised_copy, session
from caffe_fcn.nets.registry import get_variant
from cli_support import assert_user_error
from test_export_parity import caffe_forward, random_twin

PROG = 'python -m caffe_fcn.export'


def main(argv, monkeypatch, nets=None):
    """The CLI on the registered variant's name, `nets` (a twin's files) standing in for nets/<variant>."""
    if nets is not None:
        monkeypatch.setattr(export_cli, 'NetFiles', lambda variant: NetFiles(variant, nets.net_dir))
    return export_cli.main(argv)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Optimised copies of exported models go to this test's folder, not the user's cache."""
    monkeypatch.setenv('CAFFE_FCN_CACHE', str(tmp_path / 'cache'))


def test_cli_writes_a_model_that_runs_as_caffe_and_refuses_to_overwrite_it(tmp_path, capsys, monkeypatch):
    nets, weights = random_twin(tmp_path, 'siftflow-fcn16s')
    out = tmp_path / 'exported'
    argv = ['siftflow-fcn16s', '--weights', weights, '--out', str(out)]
    assert main(argv, monkeypatch, nets) == 0
    path = out / 'siftflow-fcn16s.onnx'
    assert capsys.readouterr().out.strip() == 'wrote %s' % path
    # The graph and its weights beside it (ONNX external data); no temporary file left behind.
    assert sorted(os.listdir(out)) == ['siftflow-fcn16s.onnx', 'siftflow-fcn16s.onnx.data']

    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ['data']
    net = nets.deploy_net(weights)
    assert [o.name for o in model.graph.output] == list(net.outputs) == ['score_geo', 'score_sem']  # Caffe's order
    meta = read_metadata(model)
    assert meta['variant'] == 'siftflow-fcn16s' and meta['caffe_weights'] == 'twin.caffemodel'
    assert json.loads(meta['outputs']) == [{'head': 'semantic', 'score': 'score_sem', 'classes': 33},
                                           {'head': 'geometric', 'score': 'score_geo', 'classes': 3}]
    image = np.random.default_rng(0).standard_normal((1, 3, 45, 61), dtype=np.float32) * 50
    expected = caffe_forward(net, {'data': image})
    # The first session optimises the file and keeps the result; the second loads that copy.
    assert not os.path.exists(optimised_copy(str(path)))
    for _ in range(2):
        got = forward(session(str(path)), {'data': image})
        assert os.path.exists(optimised_copy(str(path)))
        for blob in expected:
            assert np.abs(got[blob] - expected[blob]).max() < 1e-5 * np.ptp(expected[blob])
    cached = os.path.basename(os.path.dirname(optimised_copy(str(path))))
    assert os.listdir(tmp_path / 'cache' / 'onnxruntime') == [cached]

    before = path.stat().st_mtime_ns
    assert_user_error(main(argv, monkeypatch, nets), capsys, PROG, '%s already exists; not replacing it' % path)
    assert path.stat().st_mtime_ns == before


def test_weights_of_another_net_are_one_line_naming_the_layers(tmp_path, capsys, monkeypatch):
    nets, _ = random_twin(tmp_path / 'voc', 'voc-fcn32s')
    _, alexnet_weights = random_twin(tmp_path / 'alexnet', 'voc-fcn-alexnet')
    argv = ['voc-fcn32s', '--weights', alexnet_weights, '--out', str(tmp_path / 'out')]
    assert_user_error(main(argv, monkeypatch, nets), capsys, PROG,
                      r'holds layers with parameters that the net lacks \(conv1, conv2, conv3, conv4, conv5\)')
    assert_user_error(main(argv + ['--allow-extra-layers'], monkeypatch, nets), capsys, PROG,
                      "has no layer 'conv1_1' that the net needs")
    assert not (tmp_path / 'out').exists()


def test_unknown_variant_is_one_line(capsys, monkeypatch):
    status = main(['voc-fcn4s', '--weights', 'w.caffemodel', '--out', 'x'], monkeypatch)
    assert_user_error(status, capsys, PROG, "unknown variant 'voc-fcn4s'")


@pytest.mark.parametrize('name, expected', [
    # The reference release's means (BGR for colour), which the data layers subtract.
    ('voc-fcn8s', {'data': ('color', [104.00699, 116.66877, 122.67892])}),
    ('siftflow-fcn32s', {'data': ('color', [114.578, 115.294, 108.353])}),
    ('nyud-fcn32s-hha', {'data': ('hha', [132.431, 94.076, 118.477])}),
    ('nyud-fcn32s-color-d', {'color': ('color', [116.190, 97.203, 92.318]), 'depth': ('depth', [7.844])}),
    ('nyud-fcn32s-color-hha', {'color': ('color', [116.190, 97.203, 92.318]),
                               'hha': ('hha', [132.431, 94.076, 118.477])}),
])
def test_metadata_names_what_each_input_holds_and_its_mean(name, expected):
    described = preprocessing(get_variant(name))
    assert {k: (v['holds'], v['mean']) for k, v in described.items()} == expected
