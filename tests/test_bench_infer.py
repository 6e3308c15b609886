"""The bare pycaffe baseline of the inference benchmark does the same work as caffe_fcn.evaluate.infer:
on the same image and weights both write the same labels."""
import dataclasses
import os

import numpy as np
from PIL import Image

from bench.infer_sides import bare, ours
from bench.nets import QUICK_WIDTHS, load_net, randomize
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant


def test_bare_baseline_and_caffe_fcn_infer_write_the_same_labels(tmp_path):
    variant = get_variant('voc-fcn8s')
    net_dir = NetFiles.written(dataclasses.replace(variant, widths=QUICK_WIDTHS['vgg16']),
                               str(tmp_path / 'voc-fcn8s')).net_dir
    net = load_net(os.path.join(net_dir, 'deploy.prototxt'))
    randomize(net, seed=3)
    net.params['score_fr'][1].data[...] = np.arange(21)  # favour some classes so labels vary by pixel
    net.save(str(tmp_path / 'w.caffemodel'))
    image = tmp_path / 'photo.jpg'
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, size=(37, 45, 3), dtype=np.uint8)).save(str(image), quality=95)

    bare_times = bare(os.path.join(net_dir, 'deploy.prototxt'), str(tmp_path / 'w.caffemodel'),
                      variant.data['val'].params['mean'], 'score', str(tmp_path / 'bare'), [str(image)])
    our_times = ours(variant, net_dir, str(tmp_path / 'w.caffemodel'), str(tmp_path / 'ours'), [str(image)])

    bare_label = np.array(Image.open(tmp_path / 'bare' / 'photo.png'))
    our_label = load_label_png(str(tmp_path / 'ours' / 'photo.png'))
    assert bare_label.shape == our_label.shape == (37, 45)
    assert len(np.unique(our_label)) > 1
    np.testing.assert_array_equal(bare_label, our_label)
    assert len(bare_times) == len(our_times) == 1
