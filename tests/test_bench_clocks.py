"""The clocks of the training benchmark (bench/solve.py) see the time Caffe spends in a Python layer
and in solver steps: checked against a layer that sleeps a known time in each forward."""
import time

import numpy as np
import pytest

from bench.solve import LayerClock, StepClock, only_layer
from caffe_fcn.backend import select_device

caffe = select_device()
L = caffe.layers
NAP = 0.02  # seconds SleepyData sleeps in each forward


class SleepyData(caffe.Layer):
    """A 1x3x8x8 image and a 1x1x8x8 label of zeros; each forward sleeps NAP seconds."""

    def setup(self, bottom, top):
        pass

    def reshape(self, bottom, top):
        top[0].reshape(1, 3, 8, 8)
        top[1].reshape(1, 1, 8, 8)

    def forward(self, bottom, top):
        time.sleep(NAP)
        top[0].data[...] = 1
        top[1].data[...] = 0

    def backward(self, top, propagate_down, bottom):
        pass


def write_net(tmp_path):
    n = caffe.NetSpec()
    n.data, n.label = L.Python(module=__name__, layer='SleepyData', ntop=2)
    n.score = L.Convolution(n.data, num_output=2, kernel_size=1, weight_filler=dict(type='gaussian', std=0.1))
    n.loss = L.SoftmaxWithLoss(n.score, n.label)
    path = tmp_path / 'sleepy.prototxt'
    path.write_text(str(n.to_proto()))
    return str(path)


def test_layer_clock_sees_every_call_caffe_makes_and_the_time_in_it(tmp_path):
    net = caffe.Net(write_net(tmp_path), caffe.TRAIN)
    layer = only_layer(net, SleepyData)
    clock = LayerClock(layer, ('reshape', 'forward'))
    start = time.perf_counter()
    net.forward()
    net.forward()
    elapsed = time.perf_counter() - start
    assert clock.calls['forward'] == 2 and clock.calls['reshape'] >= 2
    assert 2 * NAP <= clock.seconds <= elapsed
    assert np.all(net.blobs['data'].data == 1)  # the wrapped layer still does its work


def test_step_clock_times_solver_steps_and_passes_iter_and_net_through(tmp_path):
    solver_path = tmp_path / 'solver.prototxt'
    solver_path.write_text('train_net: "%s"\nbase_lr: 0.01\nlr_policy: "fixed"\ndisplay: 0\n' % write_net(tmp_path))
    solver = caffe.get_solver(str(solver_path))
    clock = StepClock(solver)
    clock.step(1)
    clock.step(1)
    assert clock.iter == solver.iter == 2
    assert clock.net.blobs['loss'].data == solver.net.blobs['loss'].data
    assert clock.seconds >= 2 * NAP


def test_only_layer_names_the_missing_kind(tmp_path):
    net = caffe.Net(write_net(tmp_path), caffe.TRAIN)
    with pytest.raises(RuntimeError, match='0 int layers'):
        only_layer(net, int)
