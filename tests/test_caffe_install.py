"""Real BVLC Caffe, as installed by `make setup`: layers, Python layer, solver, snapshots."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from caffe_fcn.backend import CaffeNotInstalled, import_caffe, select_device

caffe = select_device()
L = caffe.layers


def test_caffe_has_the_layers_fcn_needs():
    types = set(caffe.layer_type_list())
    for needed in ['Python', 'Crop', 'Deconvolution', 'Scale', 'Eltwise', 'SoftmaxWithLoss', 'Dropout',
                   'Convolution', 'Pooling', 'Concat', 'LRN', 'HDF5Data']:
        assert needed in types


def test_missing_caffe_is_reported_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, 'caffe', None)
    with pytest.raises(CaffeNotInstalled, match='make setup'):
        import_caffe()


def test_gpu_request_on_cpu_only_build_is_a_clear_error():
    with pytest.raises(RuntimeError, match='CPU-only'):
        select_device(gpu=0)
    with pytest.raises(ValueError, match='device index'):
        select_device(gpu=-1)


def write_seg_net(path, height=12, width=14, classes=3):
    n = caffe.NetSpec()
    n.data, n.label = L.Python(module='toy_layers', layer='FixedSegData', ntop=2,
                               param_str=repr(dict(seed=0, height=height, width=width, classes=classes)))
    gaussian = dict(type='gaussian', std=0.1)
    n.conv = L.Convolution(n.data, num_output=8, kernel_size=3, stride=2, pad=1, weight_filler=gaussian)
    n.relu = L.ReLU(n.conv, in_place=True)
    n.score_lo = L.Convolution(n.relu, num_output=classes, kernel_size=1, weight_filler=gaussian)
    n.up = L.Deconvolution(n.score_lo, param=[dict(lr_mult=0)],
                           convolution_param=dict(num_output=classes, kernel_size=4, stride=2, bias_term=False,
                                                  weight_filler=gaussian))
    n.score = L.Crop(n.up, n.data, crop_param=dict(axis=2, offset=1))
    n.loss = L.SoftmaxWithLoss(n.score, n.label, loss_param=dict(ignore_label=255, normalize=False))
    with open(path, 'w') as f:
        f.write(str(n.to_proto()))
    return path


def write_solver(path, net_path, prefix, snapshot_format='BINARYPROTO'):
    from caffe.proto import caffe_pb2
    s = caffe_pb2.SolverParameter()
    s.net = net_path
    s.base_lr = 0.01
    s.momentum = 0.9
    s.weight_decay = 0.0005
    s.lr_policy = 'fixed'
    s.max_iter = 1000
    s.display = 0
    s.snapshot = 0
    s.snapshot_prefix = prefix
    s.snapshot_format = getattr(caffe_pb2.SolverParameter, snapshot_format)
    s.random_seed = 7
    with open(path, 'w') as f:
        f.write(str(s))
    return path


def softmax_loss_summed(score, label, ignore=255):
    """Independent numpy SoftmaxWithLoss with normalize: false (sum over non-ignored pixels)."""
    score = score[0].astype(np.float64)
    label = label[0, 0]
    e = np.exp(score - score.max(axis=0))
    prob = e / e.sum(axis=0)
    keep = label != ignore
    rows, cols = np.nonzero(keep)
    return -np.log(prob[label[keep].astype(int), rows, cols]).sum()


def test_python_layer_net_forward_backward_matches_numpy_loss(tmp_path):
    net = caffe.Net(write_seg_net(str(tmp_path / 'net.prototxt')), caffe.TRAIN)
    net.forward()
    assert net.blobs['score'].data.shape == (1, 3, 12, 14)
    expected = softmax_loss_summed(net.blobs['score'].data, net.blobs['label'].data)
    assert float(net.blobs['loss'].data) == pytest.approx(expected, rel=1e-5)
    net.backward()
    assert np.abs(net.params['conv'][0].diff).sum() > 0
    assert np.all(np.isfinite(net.params['score_lo'][0].diff))


@pytest.mark.parametrize('fmt,ext', [('BINARYPROTO', ''), ('HDF5', '.h5')])
def test_solver_snapshot_and_restore_resume_identically(tmp_path, fmt, ext):
    net_path = write_seg_net(str(tmp_path / 'net.prototxt'))
    prefix = str(tmp_path / 'snap')
    solver_path = write_solver(str(tmp_path / 'solver.prototxt'), net_path, prefix, fmt)
    solver = caffe.SGDSolver(solver_path)
    start_loss = None
    for _ in range(6):
        solver.step(1)
        start_loss = start_loss if start_loss is not None else float(solver.net.blobs['loss'].data)
    assert float(solver.net.blobs['loss'].data) < start_loss
    solver.snapshot()
    model = '%s_iter_6.caffemodel%s' % (prefix, ext)
    state = '%s_iter_6.solverstate%s' % (prefix, ext)
    assert os.path.exists(model) and os.path.exists(state)

    resumed = caffe.SGDSolver(solver_path)
    resumed.restore(state)
    assert resumed.iter == 6
    for name in solver.net.params:
        for a, b in zip(solver.net.params[name], resumed.net.params[name]):
            np.testing.assert_array_equal(a.data, b.data)
    # Momentum history is part of the state: both continue along the same path.
    solver.step(3)
    resumed.step(3)
    for name in solver.net.params:
        for a, b in zip(solver.net.params[name], resumed.net.params[name]):
            np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-6)


def test_caffemodel_loads_into_fresh_net_with_identical_blobs(tmp_path):
    net_path = write_seg_net(str(tmp_path / 'net.prototxt'))
    prefix = str(tmp_path / 'snap')
    solver = caffe.SGDSolver(write_solver(str(tmp_path / 'solver.prototxt'), net_path, prefix))
    solver.step(2)
    solver.snapshot()
    fresh = caffe.Net(net_path, prefix + '_iter_2.caffemodel', caffe.TEST)
    assert list(fresh.params) == list(solver.net.params)
    for name in solver.net.params:
        for a, b in zip(solver.net.params[name], fresh.params[name]):
            np.testing.assert_array_equal(a.data, b.data)


def test_caffemodel_over_512_mb_loads(tmp_path):
    """FCN-VGG16 caffemodels are ~540 MB: Caffe reads protos up to INT_MAX bytes (setup/caffe-patches/02)."""
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 1]))
    n.big = L.InnerProduct(n.data, num_output=140 * 1000 * 1000, bias_term=False)  # 560 MB of floats
    net_path = str(tmp_path / 'big.prototxt')
    with open(net_path, 'w') as f:
        f.write(str(n.to_proto()))
    net = caffe.Net(net_path, caffe.TEST)
    net.params['big'][0].data[-1, 0] = 3.0
    model = str(tmp_path / 'big.caffemodel')
    net.save(model)
    del net
    assert os.path.getsize(model) > 512 * 1024 * 1024
    loaded = caffe.Net(net_path, model, caffe.TEST)
    assert loaded.params['big'][0].data[-1, 0] == 3.0


# BVLC master's layer registry, read off src/caffe/layers/*.cpp and layer_factory.cpp
# (REGISTER_LAYER_CLASS / REGISTER_LAYER_CREATOR) at 99bd997, less ImageData and WindowData,
# which need OpenCV (off in our build).
BVLC_LAYERS = set("""
    AbsVal Accuracy ArgMax BNLL BatchNorm BatchReindex Bias Clip Concat ContrastiveLoss Convolution
    Crop Data Deconvolution Dropout DummyData ELU Eltwise Embed EuclideanLoss Exp Filter Flatten
    HDF5Data HDF5Output HingeLoss Im2col InfogainLoss InnerProduct Input LRN LSTM LSTMUnit Log MVN
    MemoryData MultinomialLogisticLoss PReLU Parameter Pooling Power Python RNN ReLU Reduction
    Reshape SPP Scale Sigmoid SigmoidCrossEntropyLoss Silence Slice Softmax SoftmaxWithLoss Split
    Swish TanH Threshold Tile""".split())


def test_installed_caffe_has_exactly_bvlc_masters_layers():
    """The fork once built here had SSD's PriorBox, DetectionOutput, ... and lacked Clip and Swish."""
    assert set(caffe.layer_type_list()) == BVLC_LAYERS


def test_bvlc_pycaffe_api_for_multi_gpu_is_present():
    assert hasattr(caffe, 'NCCL') and hasattr(caffe, 'has_nccl')
    assert hasattr(caffe, 'set_solver_count') and hasattr(caffe, 'set_multiprocess')


def test_solver_weights_field_loads_the_caffemodel(tmp_path):
    """BVLC's SolverParameter field 42 is `weights` (the fork had another field there)."""
    from caffe.proto import caffe_pb2
    assert caffe_pb2.SolverParameter.DESCRIPTOR.fields_by_name['weights'].number == 42
    assert caffe_pb2.SolverParameter.DESCRIPTOR.fields_by_name['layer_wise_reduce'].number == 41
    net_path = write_seg_net(str(tmp_path / 'net.prototxt'))
    trained = caffe.SGDSolver(write_solver(str(tmp_path / 's1.prototxt'), net_path, str(tmp_path / 'a')))
    trained.step(2)
    model = str(tmp_path / 'start.caffemodel')
    trained.net.save(model)
    solver_path = write_solver(str(tmp_path / 's2.prototxt'), net_path, str(tmp_path / 'b'))
    with open(solver_path, 'a') as f:
        f.write('weights: "%s"\n' % model)
    started = caffe.get_solver(solver_path)
    for name in trained.net.params:
        for a, b in zip(trained.net.params[name], started.net.params[name]):
            np.testing.assert_array_equal(a.data, b.data)


def test_eltwise_of_mismatched_shapes_is_refused_by_caffe():
    """BVLC checks Eltwise bottoms' shapes; the fork had the CHECK commented out and summed garbage."""
    code = textwrap.dedent('''
        import tempfile
        import caffe
        n = caffe.NetSpec()
        n.a = caffe.layers.Input(shape=dict(dim=[1, 2, 3, 3]))
        n.b = caffe.layers.Input(shape=dict(dim=[1, 2, 4, 4]))
        n.sum = caffe.layers.Eltwise(n.a, n.b)
        with tempfile.NamedTemporaryFile('w', suffix='.prototxt', delete=False) as f:
            f.write(str(n.to_proto()))
        caffe.Net(f.name, caffe.TEST)
        print('built')
    ''')
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and 'built' not in run.stdout
    assert 'Check failed: bottom[0]->shape() == bottom[i]->shape()' in run.stderr
