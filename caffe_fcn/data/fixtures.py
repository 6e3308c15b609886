"""Tiny datasets in the exact on-disk formats the data layers read, for tests and demos.

Each writer puts a few small samples under a folder that must be new or empty (fixtures never
write over data) and returns a `Fixture`: its folder, the ids of each split, the arrays written per
id, and `params`, the param_str keys that point the dataset's layer at it. Label files are lossless,
so the returned label arrays are exactly what is on disk; images are JPEG (lossy) except NYUD's PNGs,
so compare image blobs with the JPEG as decoded, and with the returned pixels only within a tolerance.

Scenes are learnable: each image is a grid of blocks, one class per block, painted in the VOC
palette colour of its class plus a little noise, so a tiny net can fit them. Sizes cycle through
`sizes` (default: three different, non-square sizes), so each image really has its own size.

    from caffe_fcn.data.fixtures import write_voc
    fx = write_voc(tmp_path / 'VOC2011', {'train': 4, 'seg11valid': 2})
    param_str = repr(dict(fx.params, split='seg11valid'))  # for VOCSegDataLayer

Writers: write_voc, write_sbd, write_nyud, write_siftflow, write_context.
"""
import os
import shutil
from dataclasses import dataclass

import numpy as np
import scipy.io
import scipy.sparse
from PIL import Image

from caffe_fcn.data.labels import save_label_png, voc_palette
from caffe_fcn.data.readers import DataError
from caffe_fcn.data.sources import SIFTFLOW_SCENES as SCENES
from caffe_fcn.paths import ROOT

DEFAULT_SIZES = ((20, 24), (17, 31), (28, 19))
VOID = 255


@dataclass
class Fixture:
    root: str
    splits: dict    # split name -> list of ids, in file order
    samples: dict   # id -> {kind: array as written}
    params: dict    # param_str keys (other than split) that select this fixture


def _fresh_dir(path):
    path = str(path)
    if os.path.isdir(path) and os.listdir(path):
        raise DataError('fixture folder %s is not empty: fixtures are only written into new or empty '
                        'folders' % path)
    os.makedirs(path, exist_ok=True)
    return path


def _blocks(rng, shape, values):
    """A label map of 2x2 to 3x3 rectangular blocks, each holding a value drawn from `values`."""
    h, w = shape
    rows = np.sort(rng.choice(np.arange(3, h - 2), size=rng.randint(1, 3), replace=False))
    cols = np.sort(rng.choice(np.arange(3, w - 2), size=rng.randint(1, 3), replace=False))
    row_of = np.searchsorted(rows, np.arange(h), side='right')
    col_of = np.searchsorted(cols, np.arange(w), side='right')
    cells = rng.choice(np.asarray(values), size=(len(rows) + 1, len(cols) + 1))
    return cells[row_of[:, None], col_of[None, :]]


def _boundaries(label):
    """Pixels whose right or lower neighbour holds another value."""
    edge = np.zeros(label.shape, dtype=bool)
    edge[:, :-1] |= label[:, 1:] != label[:, :-1]
    edge[:-1, :] |= label[1:, :] != label[:-1, :]
    return edge


def _paint(rng, label):
    """An RGB image showing each class in its palette colour, plus noise."""
    colours = voc_palette().astype(np.int16)[np.asarray(label) % 256]
    noise = rng.randint(-12, 13, size=colours.shape)
    return np.clip(colours + noise, 0, 255).astype(np.uint8)


def _write_jpeg(path, rgb):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(rgb, mode='RGB').save(path, format='JPEG', quality=98, subsampling=0)


def _write_png(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, format='PNG')


def _write_mat(path, variables):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scipy.io.savemat(path, variables)


def _write_split(path, ids, final_newline=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(ids) + ('\n' if final_newline else ''))


def _ids(splits, pattern, start):
    """Distinct ids for each split, numbered on from `start`."""
    out, n = {}, start
    for split, count in splits.items():
        out[split] = [pattern % (n + k) for k in range(count)]
        n += count
    return out


def _sizes(sizes, n):
    return sizes[n % len(sizes)]


def write_voc(voc_dir, splits, sizes=DEFAULT_SIZES, classes=range(21), seed=0):
    """PASCAL VOC layout: JPEGImages/{id}.jpg, SegmentationClass/{id}.png (palette PNG of indices,
    255 on block boundaries as VOC marks object outlines), ImageSets/Segmentation/{split}.txt.
    `splits` maps split name -> number of images; `classes` are the indices labels are drawn from."""
    root = _fresh_dir(voc_dir)
    rng = np.random.RandomState(seed)
    ids = _ids(splits, '2011_%06d', 1)
    samples = {}
    for n, sample_id in enumerate(i for split in ids.values() for i in split):
        label = _blocks(rng, _sizes(sizes, n), list(classes)).astype(np.uint8)
        label[_boundaries(label)] = VOID
        image = _paint(rng, label)
        _write_jpeg(os.path.join(root, 'JPEGImages', sample_id + '.jpg'), image)
        os.makedirs(os.path.join(root, 'SegmentationClass'), exist_ok=True)
        save_label_png(os.path.join(root, 'SegmentationClass', sample_id + '.png'), label)
        samples[sample_id] = {'image': image, 'label': label}
    for split, split_ids in ids.items():
        _write_split(os.path.join(root, 'ImageSets', 'Segmentation', split + '.txt'), split_ids)
    return Fixture(root, ids, samples, {'voc_dir': root})


def write_sbd(sbd_dir, splits, sizes=DEFAULT_SIZES, classes=range(21), seed=0):
    """SBD layout: img/{id}.jpg, cls/{id}.mat holding the 1x1 struct GTcls with fields Segmentation
    (uint8 indices 0..20, no void), Boundaries (20x1 cell of sparse per-class boundary maps) and
    CategoriesPresent (the classes present, a column), and {split}.txt."""
    root = _fresh_dir(sbd_dir)
    rng = np.random.RandomState(seed)
    ids = _ids(splits, '2008_%06d', 1)
    samples = {}
    for n, sample_id in enumerate(i for split in ids.values() for i in split):
        label = _blocks(rng, _sizes(sizes, n), list(classes)).astype(np.uint8)
        image = _paint(rng, label)
        edge = _boundaries(label)
        boundaries = np.empty((20, 1), dtype=object)
        for c in range(1, 21):
            boundaries[c - 1, 0] = scipy.sparse.csc_matrix(edge & (label == c))
        present = np.unique(label[label > 0]).astype(np.uint8)[:, None]
        _write_jpeg(os.path.join(root, 'img', sample_id + '.jpg'), image)
        _write_mat(os.path.join(root, 'cls', sample_id + '.mat'), {'GTcls': {
            'Segmentation': label, 'Boundaries': boundaries, 'CategoriesPresent': present}})
        samples[sample_id] = {'image': image, 'label': label}
    for split, split_ids in ids.items():
        _write_split(os.path.join(root, split + '.txt'), split_ids)
    return Fixture(root, ids, samples, {'sbd_dir': root})


def write_nyud(nyud_dir, splits, sizes=DEFAULT_SIZES, seed=0):
    """NYUD in the FCN release's layout: data/images/img_{id}.png (RGB), data/hha/img_{id}.png
    (3-channel), data/depth/img_{id}.png (16-bit depth in millimetres, some 0 = missing),
    segmentation/img_{id}.mat['segmentation'] (uint8, 0 void on block boundaries, 1..40),
    {split}.txt (train.txt without a final newline, as shipped)."""
    root = _fresh_dir(nyud_dir)
    rng = np.random.RandomState(seed)
    ids = _ids(splits, '%d', 5001)
    samples = {}
    for n, sample_id in enumerate(i for split in ids.values() for i in split):
        label = _blocks(rng, _sizes(sizes, n), range(1, 41)).astype(np.uint8)
        label[_boundaries(label)] = 0
        color = _paint(rng, label)
        hha = _paint(rng, (label * 7 + 3) % 256)
        depth = rng.randint(400, 9000, size=label.shape).astype(np.uint16)
        depth[rng.rand(*label.shape) < 0.1] = 0
        name = 'img_%s' % sample_id
        _write_png(os.path.join(root, 'data', 'images', name + '.png'), color)
        _write_png(os.path.join(root, 'data', 'hha', name + '.png'), hha)
        _write_png(os.path.join(root, 'data', 'depth', name + '.png'), depth)
        _write_mat(os.path.join(root, 'segmentation', name + '.mat'), {'segmentation': label})
        samples[sample_id] = {'color': color, 'hha': hha, 'depth': depth, 'label': label}
    for split, split_ids in ids.items():
        _write_split(os.path.join(root, split + '.txt'), split_ids, final_newline=split != 'train')
    return Fixture(root, ids, samples, {'nyud_dir': root})


def write_siftflow(siftflow_dir, splits, sizes=DEFAULT_SIZES, seed=0):
    """SIFT Flow layout: Images/<scenes>/{id}.jpg, SemanticLabels/<scenes>/{id}.mat and
    GeoLabels/<scenes>/{id}.mat, each with the label map S (double, as MATLAB saves it: semantic
    0 void and 1..33; geometric -1 void on block boundaries, 0 void, 1..3) and names, and {split}.txt."""
    root = _fresh_dir(siftflow_dir)
    rng = np.random.RandomState(seed)
    ids = _ids(splits, 'coast_fixture%d', 1)
    samples = {}
    for n, sample_id in enumerate(i for split in ids.values() for i in split):
        sem = _blocks(rng, _sizes(sizes, n), range(34)).astype(np.float64)
        geo = _blocks(rng, sem.shape, range(4)).astype(np.float64)
        image = _paint(rng, sem.astype(np.int64))
        sem[_boundaries(sem)] = 0
        geo[_boundaries(geo)] = -1
        _write_jpeg(os.path.join(root, 'Images', SCENES, sample_id + '.jpg'), image)
        _write_mat(os.path.join(root, 'SemanticLabels', SCENES, sample_id + '.mat'),
                   {'S': sem, 'names': np.array(['class%02d' % c for c in range(1, 34)], dtype=object)})
        _write_mat(os.path.join(root, 'GeoLabels', SCENES, sample_id + '.mat'),
                   {'S': geo, 'names': np.array(['sky', 'horizontal', 'vertical'], dtype=object)})
        samples[sample_id] = {'image': image, 'sem': sem, 'geo': geo}
    for split, split_ids in ids.items():
        _write_split(os.path.join(root, split + '.txt'), split_ids)
    return Fixture(root, ids, samples, {'siftflow_dir': root})


def write_context(context_dir, voc_dir, splits, sizes=DEFAULT_SIZES, seed=0):
    """PASCAL-Context with its VOC2010 images: {voc_dir}/JPEGImages/{id}.jpg and
    ImageSets/Main/{split}.txt; {context_dir}/trainval/{id}.mat['LabelMap'] (uint16 indices of the
    full label list, 0 unlabelled) and the repository's real classes-400.txt and classes-59.txt.
    Labels mix the 59 task classes with other full-list classes."""
    root = _fresh_dir(context_dir)
    voc_root = _fresh_dir(voc_dir)
    for name in ('classes-400.txt', 'classes-59.txt'):
        shutil.copyfile(os.path.join(ROOT, 'data', 'pascal-context', name), os.path.join(root, name))
    rng = np.random.RandomState(seed)
    ids = _ids(splits, '2010_%06d', 1)
    # Full-list indices of task classes (aeroplane, bedclothes, cloth, table, person, sky, wall: three
    # of them spelled differently in the 59-class list), then of unlabelled and non-task classes.
    task_values = (2, 19, 80, 397, 284, 360, 440)
    other_values = (0, 1, 3, 81, 304, 398, 459)
    samples = {}
    for n, sample_id in enumerate(i for split in ids.values() for i in split):
        label = _blocks(rng, _sizes(sizes, n), task_values + other_values).astype(np.uint16)
        image = _paint(rng, label)
        _write_jpeg(os.path.join(voc_root, 'JPEGImages', sample_id + '.jpg'), image)
        _write_mat(os.path.join(root, 'trainval', sample_id + '.mat'), {'LabelMap': label})
        samples[sample_id] = {'image': image, 'label': label}
    for split, split_ids in ids.items():
        _write_split(os.path.join(voc_root, 'ImageSets', 'Main', split + '.txt'), split_ids)
    return Fixture(root, ids, samples, {'context_dir': root, 'voc_dir': voc_root})
