"""Every variant's train and test nets, as the project's generator builds them (narrow trunks),
read fixture datasets through the data layers the registry names, with the registry's own
parameters (only the folders pointed at the fixtures): the label blobs hold the fixture's labels,
remapped by hand here, and Caffe's loss equals a numpy softmax loss over the non-void pixels."""
import dataclasses

import numpy as np
import pytest

from caffe_fcn.data.fixtures import write_context, write_nyud, write_sbd, write_siftflow, write_voc
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.registry import VARIANTS
from data_net import caffe

NARROW = {'vgg16': (4, 4, 4, 4, 4, 8), 'alexnet': (4, 4, 4, 4, 4, 8), 'googlenet': (4, 4, 4, 4, 8)}


@pytest.fixture(scope='module')
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp('datasets')
    made = [write_sbd(root / 'sbd', {'train': 3}), write_voc(root / 'VOC2011', {'seg11valid': 2}),
            write_nyud(root / 'nyud', {'train': 2, 'val': 1, 'test': 2}),
            write_siftflow(root / 'sift-flow', {'trainval': 2, 'test': 2}),
            write_context(root / 'pascal-context', root / 'VOC2010', {'train': 2, 'val': 2})]
    return {'SBDSegDataLayer': made[0], 'VOCSegDataLayer': made[1], 'NYUDSegDataLayer': made[2],
            'SIFTFlowSegDataLayer': made[3], 'PASCALContextSegDataLayer': made[4]}


def expected_labels(layer, raw):
    """Net labels from the stored arrays, by the rules of the reference sheet."""
    if layer in ('SBDSegDataLayer', 'VOCSegDataLayer'):
        return {'label': raw['label']}
    if layer == 'NYUDSegDataLayer':
        return {'label': np.where(raw['label'] == 0, 255, raw['label'].astype(int) - 1)}
    if layer == 'SIFTFlowSegDataLayer':
        return {'sem': np.where(raw['sem'] == 0, 255, raw['sem'] - 1),
                'geo': np.where(raw['geo'] <= 0, 255, raw['geo'] - 1)}
    by_hand = {2: 1, 19: 52, 80: 28, 397: 11, 284: 15, 360: 50, 440: 56}  # see test_data_layers
    return {'label': np.vectorize(lambda v: by_hand.get(v, 0))(raw['label'])}


def numpy_softmax_loss(score, label, normalize):
    score = score[0].astype(np.float64)
    prob = np.exp(score - score.max(0))
    prob /= prob.sum(0)
    keep = label != 255
    rows, cols = np.nonzero(keep)
    total = -np.log(prob[label[keep].astype(int), rows, cols]).sum()
    return total / max(keep.sum(), 1) if normalize else total


NETS = [(name, net) for name, v in sorted(VARIANTS.items()) for net in (v.train_split, v.test_split)]


@pytest.mark.parametrize('variant_name,net_name', NETS)
def test_generated_net_reads_fixture_labels_and_caffe_loss_matches_numpy(tmp_path, fixtures, variant_name, net_name):
    variant = VARIANTS[variant_name]
    spec = variant.data[net_name]
    fixture = fixtures[spec.layer]
    params = {k: (fixture.params[k] if k.endswith('_dir') else v) for k, v in spec.params.items()}
    data = dict(variant.data, **{net_name: dataclasses.replace(spec, params=params)})
    small = dataclasses.replace(variant, widths=NARROW[variant.trunk], data=data)
    path = tmp_path / 'net.prototxt'
    path.write_text(str(net_proto(small, net_name)))
    net = caffe.Net(str(path), caffe.TRAIN)
    for _ in range(2):
        net.forward()
        sample_id = net.layers[0].current_id
        labels = expected_labels(spec.layer, fixture.samples[sample_id])
        for out in variant.outputs:
            label = net.blobs[out.label].data[0, 0]
            np.testing.assert_array_equal(label, labels[out.label])
            assert net.blobs[out.score].data.shape == (1, out.classes) + label.shape
            expected = numpy_softmax_loss(net.blobs[out.score].data, label, variant.normalize_loss)
            assert float(net.blobs[out.loss].data) == pytest.approx(expected, rel=1e-4, abs=1e-6)
