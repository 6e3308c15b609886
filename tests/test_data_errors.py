"""Bad inputs give one clear DataError naming the file or parameter at fault, raised through real
Caffe; greyscale images and missing depth are handled by stated policies instead."""
import os

import numpy as np
import pytest
import scipy.io
from PIL import Image

from caffe_fcn.data.fixtures import write_context, write_nyud, write_sbd, write_siftflow, write_voc
from caffe_fcn.data.labels import save_label_png
from caffe_fcn.data.nyud import depth_to_blob
from caffe_fcn.data.readers import DataError
from caffe_fcn.data.sources import SIFTFLOW_SCENES as SCENES
from data_net import data_net


@pytest.mark.parametrize('dataset,params,target', [
    ('voc', {'voc_dir': 'nowhere/VOC2011'}, 'make data-voc'),
    ('sbd', {'sbd_dir': 'nowhere/dataset'}, 'make data-sbd'),
    ('nyud', {'nyud_dir': 'nowhere/nyud', 'tops': ['color', 'label']}, 'make data-nyud'),
    ('siftflow', {'siftflow_dir': 'nowhere/sift-flow'}, 'make data-siftflow'),
    ('context', {'context_dir': 'nowhere/pascal-context'}, 'make data-context'),
])
def test_missing_dataset_folder_names_it_and_the_make_target(tmp_path, dataset, params, target):
    tops = ('data', 'label') if dataset == 'nyud' else None
    with pytest.raises(DataError, match=target) as err:
        data_net(tmp_path, dataset, dict(params, split='val'), tops=tops)
    assert 'nowhere' in str(err.value)


def test_id_in_split_without_files_is_named_at_setup(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 2})
    with open(os.path.join(fx.root, 'ImageSets', 'Segmentation', 'val.txt'), 'a') as f:
        f.write('2099_000042\n')
    with pytest.raises(DataError, match=r"2099_000042\.jpg.*'2099_000042'"):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_missing_split_file_lists_the_splits_that_exist(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'train': 1, 'val': 1})
    with pytest.raises(DataError, match=r'seg11valid\.txt does not exist.*train, val'):
        data_net(tmp_path, 'voc', dict(fx.params, split='seg11valid'))


def test_image_and_label_of_different_sizes_name_both_files(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    sample_id = fx.splits['val'][0]
    label_path = os.path.join(fx.root, 'SegmentationClass', sample_id + '.png')
    save_label_png(label_path, np.zeros((5, 6), np.uint8), overwrite=True)
    with pytest.raises(DataError, match=r'differ in size.*%s\.jpg.*%s\.png' % (sample_id, sample_id)):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_voc_label_value_21_is_rejected_with_the_file(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    label_path = os.path.join(fx.root, 'SegmentationClass', fx.splits['val'][0] + '.png')
    label = fx.samples[fx.splits['val'][0]]['label'].copy()
    label[0, 0] = 21
    save_label_png(label_path, label, overwrite=True)
    with pytest.raises(DataError, match=r'%s holds value\(s\) 21 outside' % label_path):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_sbd_label_value_above_20_is_rejected_with_the_file(tmp_path):
    fx = write_sbd(tmp_path / 'dataset', {'val': 1})
    path = os.path.join(fx.root, 'cls', fx.splits['val'][0] + '.mat')
    label = fx.samples[fx.splits['val'][0]]['label'].copy()
    label[1, 1] = 30
    scipy.io.savemat(path, {'GTcls': {'Segmentation': label}})
    with pytest.raises(DataError, match=r'%s holds value\(s\) 30' % path):
        data_net(tmp_path, 'sbd', dict(fx.params, split='val'))


def test_nyud_label_41_and_siftflow_geometric_4_are_rejected(tmp_path):
    fx = write_nyud(tmp_path / 'nyud', {'test': 1})
    path = os.path.join(fx.root, 'segmentation', 'img_%s.mat' % fx.splits['test'][0])
    scipy.io.savemat(path, {'segmentation': np.full((20, 24), 41, np.uint8)})
    with pytest.raises(DataError, match=r'%s holds value\(s\) 41 outside the valid stored values 0\.\.40' % path):
        data_net(tmp_path, 'nyud', dict(fx.params, split='test', tops=['color', 'label']), tops=('data', 'label'))

    fx = write_siftflow(tmp_path / 'sift-flow', {'test': 1})
    path = os.path.join(fx.root, 'GeoLabels', SCENES, fx.splits['test'][0] + '.mat')
    scipy.io.savemat(path, {'S': np.full((20, 24), 4.0)})
    with pytest.raises(DataError, match=r'%s holds value\(s\) 4 outside the valid stored values -1\.\.3' % path):
        data_net(tmp_path, 'siftflow', dict(fx.params, split='test'))


def test_mat_without_the_expected_variable_names_what_it_holds(tmp_path):
    fx = write_context(tmp_path / 'pascal-context', tmp_path / 'VOC2010', {'val': 1})
    path = os.path.join(fx.root, 'trainval', fx.splits['val'][0] + '.mat')
    scipy.io.savemat(path, {'labels': np.zeros((3, 3), np.uint16)})
    with pytest.raises(DataError, match=r"%s has no variable 'LabelMap' \(it holds labels\)" % path):
        data_net(tmp_path, 'context', dict(fx.params, split='val'))


def test_corrupt_jpeg_is_named(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    path = os.path.join(fx.root, 'JPEGImages', fx.splits['val'][0] + '.jpg')
    with open(path, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 this is not a JPEG body' * 4)
    with pytest.raises(DataError, match=r'cannot decode %s' % path):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_truncated_png_is_named(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    path = os.path.join(fx.root, 'SegmentationClass', fx.splits['val'][0] + '.png')
    with open(path, 'rb') as f:
        whole = f.read()
    with open(path, 'wb') as f:
        f.write(whole[:len(whole) // 2])
    with pytest.raises(DataError, match=r'cannot decode %s' % path):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_colour_png_as_label_is_rejected(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    path = os.path.join(fx.root, 'SegmentationClass', fx.splits['val'][0] + '.png')
    Image.open(path).convert('RGB').save(path)
    with pytest.raises(DataError, match=r'%s is a RGB PNG.*palette' % path):
        data_net(tmp_path, 'voc', dict(fx.params, split='val'))


def test_greyscale_jpeg_becomes_three_equal_channels_minus_the_mean(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    path = os.path.join(fx.root, 'JPEGImages', fx.splits['val'][0] + '.jpg')
    Image.open(path).convert('L').save(path, quality=98)
    grey = np.array(Image.open(path), dtype=np.float64)
    assert grey.ndim == 2
    net = data_net(tmp_path, 'voc', dict(fx.params, split='val', mean=[1.0, 2.0, 3.0]))
    net.forward()
    np.testing.assert_allclose(net.blobs['data'].data[0], np.stack([grey - 1, grey - 2, grey - 3]), atol=1e-4)


def test_zero_depth_reads_zero_after_the_mean_never_minus_infinity():
    blob = depth_to_blob(np.array([[0, 1000], [2550, 0]], dtype=np.uint16))
    assert blob.shape == (1, 2, 2) and np.all(np.isfinite(blob))
    np.testing.assert_allclose(blob[0], [[0.0, np.log(1000) - 7.844], [np.log(2550) - 7.844, 0.0]], atol=1e-6)


def test_nyud_depth_png_with_zeros_gives_finite_blob(tmp_path):
    fx = write_nyud(tmp_path / 'nyud', {'test': 1})
    depth = fx.samples[fx.splits['test'][0]]['depth']
    assert (depth == 0).any()
    net = data_net(tmp_path, 'nyud', dict(fx.params, split='test', tops=['depth']), tops=('depth',))
    net.forward()
    assert np.all(np.isfinite(net.blobs['depth'].data))
    assert np.all(net.blobs['depth'].data[0, 0][depth == 0] == 0)


@pytest.mark.parametrize('params,message', [
    ({'split': 'val', 'mean_bgr': [1, 2, 3]}, r"unknown param_str key\(s\) 'mean_bgr'; accepted keys: mean, seed, split, voc_dir"),
    ({'voc_dir': 'x'}, r'lacks the required key\(s\) split'),
    ({'split': 'val', 'mean': [1, 2]}, r'mean must be three numbers'),
    ({'split': 'val', 'seed': '1337'}, r'seed must be an integer'),
])
def test_bad_params_name_the_key(tmp_path, params, message):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    full = dict(fx.params, **params) if 'voc_dir' not in params else params
    with pytest.raises(DataError, match=message):
        data_net(tmp_path, 'voc', full)


def test_param_str_is_parsed_as_a_literal_never_evaluated(tmp_path):
    from caffe_fcn.data.base import parse_params
    with pytest.raises(DataError, match='not a Python literal dict'):
        parse_params("dict(split=__import__('os').getcwd())", {'split': None}, 'VOCSegDataLayer')


def test_nyud_unknown_top_and_wrong_top_count_are_errors(tmp_path):
    fx = write_nyud(tmp_path / 'nyud', {'test': 1})
    with pytest.raises(DataError, match=r"tops must be a list of distinct names from color, hha, depth, label, got \['rgb'"):
        data_net(tmp_path, 'nyud', dict(fx.params, split='test', tops=['rgb', 'label']), tops=('data', 'label'))
    with pytest.raises(DataError, match=r'has 2 top\(s\) but produces 3 \(color, hha, label\)'):
        data_net(tmp_path, 'nyud', dict(fx.params, split='test', tops=['color', 'hha', 'label']), tops=('data', 'label'))
