"""Small stand-ins for the solve/score/infer tests: narrow twins of registered variants that read
the data helper's fixture datasets, and random convolutionalized-ILSVRC weights for their trunks."""
import dataclasses

import numpy as np

from caffe_fcn.backend import net_from_proto
from caffe_fcn.data.fixtures import write_voc
from caffe_fcn.data.constants import VOC_MEAN_BGR
from caffe_fcn.nets import ilsvrc
from caffe_fcn.nets.registry import DataSpec, get_variant
from caffe_fcn.backend.weights import save_weights

WIDTHS = (4, 4, 8, 8, 8, 16)
MEAN = VOC_MEAN_BGR  # as the registered VOC variants: CLIs that read a twin's files use the registry's
VOC_SPLITS = {'train': 3, 'val': 2, 'test': 3}


def voc_fixture(folder, splits=VOC_SPLITS):
    """VOC layout with two classes, background and 15 (person): easy to learn."""
    return write_voc(str(folder), splits, classes=(0, 15))


def voc_twin(name, fixture, rounds=2, steps=3, base_lr=1e-3, **changes):
    """A narrow twin of registered VOC variant `name` that trains on `fixture` (normalised loss and
    a larger learning rate than the paper's, so that it learns in a few steps)."""
    variant = get_variant(name)
    spec = lambda split: DataSpec('caffe_fcn.data.voc', 'VOCSegDataLayer',
                                  dict(fixture.params, split=split, mean=MEAN, seed=1337))
    # random_seed: Caffe's generator (dropout masks) starts the same in every run, so runs repeat.
    solver = dict(variant.solver, base_lr=base_lr, momentum=0.9, iter_size=1, display=0, random_seed=1)
    return dataclasses.replace(variant, widths=WIDTHS, data={'train': spec('train'), 'val': spec('val')},
                               solver=solver, rounds=rounds, steps=steps, normalize_loss=True, **changes)


def siftflow_twin(name, fixture):
    """A narrow twin of a registered SIFT Flow variant reading `fixture` (trainval and test splits)."""
    variant = get_variant(name)
    spec = lambda split: DataSpec('caffe_fcn.data.siftflow', 'SIFTFlowSegDataLayer',
                                  dict(fixture.params, split=split, seed=1337))
    return dataclasses.replace(variant, widths=WIDTHS, data={'trainval': spec('trainval'), 'test': spec('test')})


def random_fcn_trunk(path, widths=WIDTHS, seed=0):
    """A convolutionalized narrow VGG16 with He-initialised random weights, saved as a caffemodel
    (what weights/vgg16-fcn.caffemodel is to the full-size variants)."""
    net = net_from_proto(ilsvrc.convolutionalized('vgg16', widths=widths, classes=10, size=64))
    rng = np.random.RandomState(seed)
    for blobs in net.params.values():
        weights = blobs[0].data
        weights[...] = rng.randn(*weights.shape) * np.sqrt(2.0 / np.prod(weights.shape[1:]))
        blobs[1].data[...] = 0
    return save_weights(net, str(path))


def random_fcn8s_twin(folder):
    """(NetFiles, caffe.Net) of a narrow voc-fcn8s twin written to `folder`/voc-fcn8s (named like the
    variant, for the CLIs), its deploy net with random weights (seeded) and bilinear deconvolutions."""
    from caffe_fcn.backend import select_device
    from caffe_fcn.nets.files import NetFiles
    from caffe_fcn.surgery import interp
    caffe = select_device()
    nets = NetFiles.written(voc_twin('voc-fcn8s', voc_fixture(folder / 'VOC')), str(folder / 'voc-fcn8s'))
    net = caffe.Net(nets.proto('deploy'), caffe.TEST)
    rng = np.random.RandomState(0)
    for blobs in net.params.values():
        for blob in blobs:
            blob.data[...] = rng.randn(*blob.data.shape) * 0.3
    interp(net)
    return nets, net
