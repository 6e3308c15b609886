"""Each dataset's layer, in a real Caffe net, against arrays computed here by hand from the fixture
files: the BGR flip, the mean, the CHW order and every label remapping, value by value."""
import os

import numpy as np
import pytest
from PIL import Image

from caffe_fcn.data.fixtures import write_context, write_nyud, write_sbd, write_siftflow, write_voc
from data_net import caffe, data_net, data_spec, write_net

VOC_MEAN = (104.00699, 116.66877, 122.67892)


def decoded(path):
    """The file as PIL decodes it, HxWx3 float64 RGB: the truth a lossy JPEG can be compared to."""
    return np.array(Image.open(path).convert('RGB'), dtype=np.float64)


def bgr_minus_mean(rgb, mean_bgr):
    """By hand: channel 0 is blue, 1 green, 2 red, each minus its own mean."""
    return np.stack([rgb[:, :, 2] - mean_bgr[0], rgb[:, :, 1] - mean_bgr[1], rgb[:, :, 0] - mean_bgr[2]])


def assert_image_blob(blob, path, mean_bgr, painted):
    rgb = decoded(path)
    assert blob.shape == (1, 3) + rgb.shape[:2]
    np.testing.assert_allclose(blob[0], bgr_minus_mean(rgb, mean_bgr), rtol=0, atol=1e-4)
    # The decoded JPEG is the painted image up to compression noise: the flip is not hidden in it.
    assert np.abs(rgb - painted).mean() < 2


def test_voc_gives_bgr_minus_mean_and_palette_indices_with_void(tmp_path):
    fx = write_voc(tmp_path / 'VOC2011', {'seg11valid': 3})
    net = data_net(tmp_path, 'voc', dict(fx.params, split='seg11valid'))
    for sample_id in fx.splits['seg11valid']:
        net.forward()
        assert net.layers[0].current_id == sample_id
        assert_image_blob(net.blobs['data'].data, os.path.join(fx.root, 'JPEGImages', sample_id + '.jpg'),
                          VOC_MEAN, fx.samples[sample_id]['image'])
        label = fx.samples[sample_id]['label']
        assert net.blobs['label'].data.shape == (1, 1) + label.shape
        np.testing.assert_array_equal(net.blobs['label'].data[0, 0], label)
        assert (label == 255).any() and (label < 21).any()


def test_voc_mean_param_is_subtracted_in_bgr_order(tmp_path):
    fx = write_voc(tmp_path / 'VOC', {'val': 1})
    mean = [10.0, 20.0, 30.0]
    net = data_net(tmp_path, 'voc', dict(fx.params, split='val', mean=mean))
    net.forward()
    rgb = decoded(os.path.join(fx.root, 'JPEGImages', fx.splits['val'][0] + '.jpg'))
    y, x = 5, 7
    assert net.blobs['data'].data[0, :, y, x] == pytest.approx(
        [rgb[y, x, 2] - 10, rgb[y, x, 1] - 20, rgb[y, x, 0] - 30], abs=1e-4)


def test_voc_label_feeds_softmax_loss_that_matches_numpy_over_non_void_pixels(tmp_path):
    """The label top is what SoftmaxWithLoss expects (1x1xHxW, 255 ignored), at each image's size."""
    fx = write_voc(tmp_path / 'VOC', {'val': 2})
    spec, (data, label) = data_spec('voc', dict(fx.params, split='val'))
    spec.score = caffe.layers.Convolution(data, num_output=21, kernel_size=1,
                                          weight_filler=dict(type='gaussian', std=0.01))
    spec.loss = caffe.layers.SoftmaxWithLoss(spec.score, label, loss_param=dict(ignore_label=255, normalize=False))
    net = caffe.Net(write_net(spec, tmp_path), caffe.TEST)
    shapes = set()
    for _ in range(2):
        net.forward()
        score = net.blobs['score'].data[0].astype(np.float64)
        labels = net.blobs['label'].data[0, 0]
        shapes.add(labels.shape)
        prob = np.exp(score - score.max(0))
        prob /= prob.sum(0)
        keep = labels != 255
        rows, cols = np.nonzero(keep)
        expected = -np.log(prob[labels[keep].astype(int), rows, cols]).sum()
        assert float(net.blobs['loss'].data) == pytest.approx(expected, rel=1e-4)
    assert len(shapes) == 2


def test_sbd_reads_gtcls_segmentation_from_mat(tmp_path):
    fx = write_sbd(tmp_path / 'dataset', {'val': 2})
    net = data_net(tmp_path, 'sbd', dict(fx.params, split='val'))
    for sample_id in fx.splits['val']:
        net.forward()
        assert_image_blob(net.blobs['data'].data, os.path.join(fx.root, 'img', sample_id + '.jpg'),
                          VOC_MEAN, fx.samples[sample_id]['image'])
        np.testing.assert_array_equal(net.blobs['label'].data[0, 0], fx.samples[sample_id]['label'])


def test_nyud_color_hha_depth_label_tops(tmp_path):
    fx = write_nyud(tmp_path / 'nyud', {'train': 1, 'val': 1, 'test': 2})
    net = data_net(tmp_path, 'nyud', dict(fx.params, split='test', tops=['color', 'hha', 'depth', 'label']),
                   tops=('color', 'hha', 'depth', 'label'))
    for sample_id in fx.splits['test']:
        net.forward()
        sample = fx.samples[sample_id]
        # PNG is lossless: the painted pixels are the truth.
        np.testing.assert_allclose(net.blobs['color'].data[0],
                                   bgr_minus_mean(sample['color'].astype(float), (116.190, 97.203, 92.318)),
                                   atol=1e-4)
        hha = sample['hha'].astype(float)
        np.testing.assert_allclose(net.blobs['hha'].data[0],
                                   np.stack([hha[:, :, 0] - 132.431, hha[:, :, 1] - 94.076, hha[:, :, 2] - 118.477]),
                                   atol=1e-4)
        depth = sample['depth'].astype(float)
        expected = np.where(depth > 0, np.log(np.maximum(depth, 1)) - 7.844, 0.0)
        np.testing.assert_allclose(net.blobs['depth'].data[0, 0], expected, atol=1e-5)
        raw = sample['label']
        np.testing.assert_array_equal(net.blobs['label'].data[0, 0], np.where(raw == 0, 255, raw.astype(int) - 1))
        assert (raw == 0).any()


def test_nyud_trainval_is_train_then_val_and_needs_only_the_files_of_its_tops(tmp_path):
    fx = write_nyud(tmp_path / 'nyud', {'train': 2, 'val': 2, 'test': 1})
    for folder in ('images', 'depth'):
        for name in os.listdir(os.path.join(fx.root, 'data', folder)):
            os.remove(os.path.join(fx.root, 'data', folder, name))
    net = data_net(tmp_path, 'nyud', dict(fx.params, split='trainval', tops=['hha', 'label']), tops=('data', 'label'))
    assert net.layers[0].ids == fx.splits['train'] + fx.splits['val']
    net.forward()
    assert net.blobs['data'].data.shape[1] == 3 and net.blobs['label'].data.shape[1] == 1


def test_siftflow_semantic_and_geometric_remapping(tmp_path):
    fx = write_siftflow(tmp_path / 'sift-flow', {'test': 3})
    net = data_net(tmp_path, 'siftflow', dict(fx.params, split='test'))
    for sample_id in fx.splits['test']:
        net.forward()
        sample = fx.samples[sample_id]
        assert_image_blob(net.blobs['data'].data,
                          os.path.join(fx.root, 'Images', 'spatial_envelope_256x256_static_8outdoorcategories',
                                       sample_id + '.jpg'),
                          (114.578, 115.294, 108.353), sample['image'])
        sem, geo = sample['sem'], sample['geo']
        np.testing.assert_array_equal(net.blobs['sem'].data[0, 0], np.where(sem == 0, 255, sem - 1))
        np.testing.assert_array_equal(net.blobs['geo'].data[0, 0], np.where(geo <= 0, 255, geo - 1))
        assert (sem == 0).any() and (geo == -1).any()


def test_context_maps_full_list_indices_to_59_classes_and_the_rest_to_background(tmp_path):
    fx = write_context(tmp_path / 'pascal-context', tmp_path / 'VOC2010', {'val': 3})
    # By hand from classes-400.txt and classes-59.txt: aeroplane 2 -> 1, bedclothes 19 -> 52 (bedcloth),
    # cloth 80 -> 28 (clothes), table 397 -> 11 (diningtable), person 284 -> 15, sky 360 -> 50,
    # wall 440 -> 56; unlabelled 0, accordion 1, air conditioner 3, clothes tree 81, pool table 304,
    # tableware 398 and wool 459 are background, 0.
    by_hand = {2: 1, 19: 52, 80: 28, 397: 11, 284: 15, 360: 50, 440: 56}
    net = data_net(tmp_path, 'context', dict(fx.params, split='val'))
    seen = set()
    for sample_id in fx.splits['val']:
        net.forward()
        raw = fx.samples[sample_id]['label']
        assert_image_blob(net.blobs['data'].data, os.path.join(fx.params['voc_dir'], 'JPEGImages', sample_id + '.jpg'),
                          VOC_MEAN, fx.samples[sample_id]['image'])
        expected = np.vectorize(lambda v: by_hand.get(v, 0))(raw)
        np.testing.assert_array_equal(net.blobs['label'].data[0, 0], expected)
        seen |= set(np.unique(raw).tolist())
    assert seen & set(by_hand) and seen - set(by_hand)
