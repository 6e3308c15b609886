"""Sample order, in real Caffe nets: training splits draw at random with replacement from the layer's
own seeded generator; other splits go in file order and wrap; each sample is read once per forward."""
import random

import numpy as np
import pytest

from caffe_fcn.data.fixtures import write_voc
from data_net import data_net


def id_sequence(net, forwards):
    sequence = []
    for _ in range(forwards):
        net.forward()
        sequence.append(net.layers[0].current_id)
    return sequence


def voc(tmp_path, splits):
    return write_voc(tmp_path / 'VOC', splits, sizes=((12, 14),))


@pytest.fixture
def global_generators():
    """Lets a test reseed Python's and numpy's global generators, restoring them afterwards."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)


def test_train_split_same_seed_same_sequence_even_if_global_generators_change(tmp_path, global_generators):
    fx = voc(tmp_path, {'train': 5})
    params = dict(fx.params, split='train', seed=7)
    random.seed(1)
    np.random.seed(1)
    first = id_sequence(data_net(tmp_path, 'voc', params), 30)
    random.seed(2)
    np.random.seed(2)
    second = id_sequence(data_net(tmp_path, 'voc', params), 30)
    assert first == second


def test_train_split_different_seed_different_sequence(tmp_path):
    fx = voc(tmp_path, {'train': 5})
    a = id_sequence(data_net(tmp_path, 'voc', dict(fx.params, split='train', seed=1)), 30)
    b = id_sequence(data_net(tmp_path, 'voc', dict(fx.params, split='train', seed=2)), 30)
    assert a != b


def test_train_split_draws_uniformly_with_replacement(tmp_path):
    fx = voc(tmp_path, {'train': 4})
    sequence = id_sequence(data_net(tmp_path, 'voc', dict(fx.params, split='train')), 400)
    counts = [sequence.count(i) for i in fx.splits['train']]
    # With replacement: repeats come back-to-back sometimes (p = 1/4 each step), never in file order.
    assert any(a == b for a, b in zip(sequence, sequence[1:]))
    assert sequence[:4] != fx.splits['train']
    # 400 draws over 4 ids: 100 each, standard deviation 8.7.
    assert all(60 < c < 140 for c in counts), counts


def test_val_split_goes_in_file_order_and_wraps(tmp_path):
    fx = voc(tmp_path, {'train': 2, 'seg11valid': 3})
    ids = fx.splits['seg11valid']
    assert id_sequence(data_net(tmp_path, 'voc', dict(fx.params, split='seg11valid')), 7) == ids + ids + ids[:1]


def test_each_forward_reads_one_sample_once(tmp_path):
    fx = voc(tmp_path, {'val': 3})
    net = data_net(tmp_path, 'voc', dict(fx.params, split='val'))
    layer = net.layers[0]
    reads = []
    load = layer.load
    layer.load = lambda sample_id: reads.append(sample_id) or load(sample_id)
    net.forward()  # the first sample was read while Caffe built the net
    net.forward()
    net.forward()
    assert reads == fx.splits['val'][1:]
