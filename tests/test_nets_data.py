"""The registry's data layer specs work with the project's real data layers: every training and
testing net (a narrow twin) runs on a fixture dataset in the real on-disk format, its tops match
the layer's, and each loss is ln C per labelled pixel (zero weights: uniform softmax)."""
import ast
import dataclasses
import math

import pytest

from caffe_fcn.backend import net_from_proto
from caffe_fcn.data import fixtures
from caffe_fcn.nets import build
from caffe_fcn.nets.registry import STAGES, VARIANTS, get_variant


@pytest.fixture(scope='module')
def datasets(tmp_path_factory):
    """Dataset folder params per (dataset, split), written once for the module."""
    root = tmp_path_factory.mktemp('datasets')
    voc = fixtures.write_voc(root / 'VOC2011', {'seg11valid': 1})
    sbd = fixtures.write_sbd(root / 'sbd', {'train': 1})
    nyud = fixtures.write_nyud(root / 'nyud', {'train': 1, 'val': 1, 'test': 1})
    sift = fixtures.write_siftflow(root / 'sift-flow', {'trainval': 1, 'test': 1})
    context = fixtures.write_context(root / 'context', root / 'VOC2010', {'train': 1, 'val': 1})
    return {('voc', 'train'): sbd.params, ('voc', 'val'): voc.params,
            ('nyud', 'trainval'): nyud.params, ('nyud', 'test'): nyud.params,
            ('siftflow', 'trainval'): sift.params, ('siftflow', 'test'): sift.params,
            ('context', 'train'): context.params, ('context', 'val'): context.params}


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_training_and_testing_nets_run_on_their_datasets_format(name, datasets):
    variant = get_variant(name)
    variant = dataclasses.replace(variant, widths=(4,) * STAGES[variant.trunk])
    for net_name in (variant.train_split, variant.test_split):
        proto = build.net_proto(variant, net_name)
        python = proto.layer[0].python_param
        params = ast.literal_eval(python.param_str)
        folders = datasets[variant.dataset, net_name]
        assert set(folders) <= set(params)  # the spec names every folder the layer reads
        python.param_str = repr(dict(params, **folders))
        net = net_from_proto(proto)
        net.forward()
        for out in variant.outputs:
            label = net.blobs[out.label].data
            assert net.blobs[out.score].data.shape[2:] == label.shape[2:]
            labelled = int((label != 255).sum())
            assert labelled > 0
            expected = math.log(out.classes) * (1 if variant.normalize_loss else labelled)
            assert float(net.blobs[out.loss].data) == pytest.approx(expected, rel=1e-5)
