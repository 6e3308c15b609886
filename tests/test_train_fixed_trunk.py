"""FCN-32s-fixed (CVPR Table 2): Caffe's SGD changes its score layer and nothing else, while the
same steps change every layer of FCN-32s (the control). Narrow twins on the VOC fixture, started
from random trunk weights so that every layer has a gradient."""
import numpy as np
import pytest

import train_fixtures
from caffe_fcn.backend import select_device
from caffe_fcn.backend.weights import read_weights
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.surgery.stages import init_variant


def changed_layers(name, tmp_path):
    """Layers whose parameters differ after 3 SGD steps of the twin of `name`."""
    caffe = select_device()
    fixture = train_fixtures.voc_fixture(tmp_path / 'VOC')
    trunk = train_fixtures.random_fcn_trunk(tmp_path / 'trunk.caffemodel')
    twin = train_fixtures.voc_twin(name, fixture, base_lr=1e-2)
    settings = NetFiles.written(twin, str(tmp_path / name)).solver()
    settings.snapshot_prefix = str(tmp_path / 'snapshot')  # Caffe checks it is writable
    (tmp_path / 'solver.prototxt').write_text(str(settings))
    solver = caffe.get_solver(str(tmp_path / 'solver.prototxt'))
    init_variant(twin, solver.net, [read_weights(trunk)])
    rng = np.random.RandomState(1)
    score = solver.net.params['score_fr'][0].data
    score[...] = rng.randn(*score.shape)  # zero score weights would pass no gradient to the trunk
    before = {name: [b.data.copy() for b in blobs] for name, blobs in solver.net.params.items()}
    solver.step(3)
    return {name for name, blobs in solver.net.params.items()
            if any(not np.array_equal(b.data, old) for b, old in zip(blobs, before[name]))}


@pytest.mark.parametrize('name, learning', [
    ('voc-fcn32s-fixed', {'score_fr'}),
    ('voc-fcn32s', {'conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3',
                    'conv4_1', 'conv4_2', 'conv4_3', 'conv5_1', 'conv5_2', 'conv5_3', 'fc6', 'fc7',
                    'score_fr'}),
])
def test_sgd_changes_exactly_the_layers_that_learn(name, learning, tmp_path):
    assert changed_layers(name, tmp_path) == learning
