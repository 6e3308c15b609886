"""The demo dataset: VOC's on-disk layout read by the real VOC data layer, deterministic, safe."""
import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from caffe_fcn.backend import select_device
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.demo import dataset
from caffe_fcn.nets.layers import L

caffe = select_device()


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('demo') / 'data')
    dataset.generate(out, seed=7, train=6, val=3, log=lambda text: None)
    return out


def test_layout_is_vocs_with_split_files_class_list_and_palette_labels(small):
    with open(os.path.join(small, 'ImageSets', 'Segmentation', 'train.txt')) as f:
        train = f.read().split()
    with open(os.path.join(small, 'ImageSets', 'Segmentation', 'val.txt')) as f:
        val = f.read().split()
    assert train == dataset.image_ids('train', 6) and val == dataset.image_ids('val', 3)
    with open(os.path.join(small, 'classes.txt')) as f:
        assert tuple(f.read().split('\n')[:-1]) == dataset.CLASSES
    for name in train + val:
        image = Image.open(os.path.join(small, 'JPEGImages', name + '.jpg'))
        label = Image.open(os.path.join(small, 'SegmentationClass', name + '.png'))
        assert image.format == 'JPEG' and image.mode == 'RGB'
        assert label.mode == 'P' and label.size == image.size
        assert all(96 <= side <= 200 for side in image.size)


def test_real_voc_data_layer_reads_it_and_labels_are_classes_or_void(small):
    n = caffe.NetSpec()
    n.data, n.label = L.Python(module='caffe_fcn.data.voc', layer='VOCSegDataLayer', ntop=2,
                               param_str=repr(dict(voc_dir=small, split='val', mean=[120.0, 120.0, 120.0])))
    path = os.path.join(os.path.dirname(small), 'net.prototxt')
    with open(path, 'w') as f:
        f.write(str(n.to_proto()))
    net = caffe.Net(path, caffe.TEST)
    seen = set()
    for name in dataset.image_ids('val', 3):
        net.forward()
        width, height = Image.open(os.path.join(small, 'JPEGImages', name + '.jpg')).size
        assert net.blobs['data'].data.shape == (1, 3, height, width)
        seen |= set(np.unique(net.blobs['label'].data).astype(int))
    assert seen <= set(range(len(dataset.CLASSES))) | {255} and 0 in seen and 255 in seen


def test_void_band_separates_every_object_from_what_surrounds_it(small):
    for name in dataset.image_ids('train', 6):
        label = load_label_png(os.path.join(small, 'SegmentationClass', name + '.png'))
        assert (label > 0).any() and (label == 255).any()
        for c in range(1, len(dataset.CLASSES)):
            grown = ndimage.binary_dilation(label == c)  # 4-neighbours of class c
            assert set(np.unique(label[grown])) <= {c, 255}, name


def test_objects_have_both_textures_and_shapes_across_classes(small):
    """Every object class combines one shape with one texture, and each cue occurs in two classes."""
    assert sorted(dataset.OBJECT_CLASSES) == [1, 2, 3, 4]
    shapes = [shape for shape, _ in dataset.OBJECT_CLASSES.values()]
    textures = [texture for _, texture in dataset.OBJECT_CLASSES.values()]
    assert sorted(shapes) == ['circle', 'circle', 'square', 'square']
    assert sorted(textures) == ['dots', 'dots', 'stripes', 'stripes']


def test_square_and_circle_of_one_size_have_the_same_area():
    """Size says nothing about the shape: a square of size r covers pi r^2 like the circle."""
    yy, xx = np.mgrid[0:400, 0:400].astype(np.float64)
    circle = dataset.circle(yy, xx, 200, 200, 80, 0).sum()
    square = dataset.square(yy, xx, 200, 200, 80, 0.3).sum()
    assert abs(circle - np.pi * 80 ** 2) / (np.pi * 80 ** 2) < 0.01
    assert abs(square - circle) / circle < 0.01


def test_same_seed_gives_identical_files_and_smaller_sets_are_prefixes(tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    dataset.generate(a, seed=3, train=3, val=1, log=lambda text: None)
    dataset.generate(b, seed=3, train=2, val=1, log=lambda text: None)
    for name in dataset.image_ids('train', 2) + dataset.image_ids('val', 1):
        for folder, ext in (('JPEGImages', '.jpg'), ('SegmentationClass', '.png')):
            with open(os.path.join(a, folder, name + ext), 'rb') as fa, open(os.path.join(b, folder, name + ext), 'rb') as fb:
                assert fa.read() == fb.read()


def test_mean_in_manifest_is_bgr_mean_of_train_jpegs(small):
    pixels = np.concatenate([np.asarray(Image.open(os.path.join(small, 'JPEGImages', n + '.jpg')), np.float64).reshape(-1, 3)
                             for n in dataset.image_ids('train', 6)])
    assert np.allclose(dataset.read_manifest(small)['mean_bgr'], pixels.mean(0)[::-1], atol=1e-3)


def test_existing_dataset_is_kept_or_refused_never_overwritten(small, tmp_path):
    stamp = os.path.getmtime(os.path.join(small, 'dataset.json'))
    dataset.generate(small, seed=7, train=6, val=3, log=lambda text: None)  # same parameters: kept
    assert os.path.getmtime(os.path.join(small, 'dataset.json')) == stamp
    with pytest.raises(dataset.DemoError, match='made with'):
        dataset.generate(small, seed=8, train=6, val=3)
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(dataset.DemoError, match='holds no demo dataset'):
        dataset.generate(str(other))
    assert (other / 'notes.txt').read_text() == 'mine'
    with pytest.raises(dataset.DemoError, match='make demo-data'):
        dataset.read_manifest(str(tmp_path / 'absent'))
