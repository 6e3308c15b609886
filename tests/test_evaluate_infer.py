"""infer: label and overlay PNGs for images of any size, from a narrow FCN-8s twin's deploy net."""
import os

import numpy as np
import pytest
from PIL import Image

import train_fixtures
from caffe_fcn.evaluate import infer as infer_cli
from caffe_fcn.backend import select_device
from caffe_fcn.data.labels import voc_palette
from caffe_fcn.evaluate.infer import InferError, infer
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.backend.weights import save_weights

caffe = select_device()


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory):
    """(NetFiles, weights) of a narrow voc-fcn8s twin with random weights and bilinear deconvolutions."""
    folder = tmp_path_factory.mktemp('infer')
    nets, net = train_fixtures.random_fcn8s_twin(folder)
    return nets, save_weights(net, str(folder / 'fcn8s-twin.caffemodel'))


def write_jpeg(path, height, width, mode='RGB', seed=0):
    rng = np.random.RandomState(seed)
    shape = (height, width, 3) if mode == 'RGB' else (height, width)
    Image.fromarray(rng.randint(0, 256, size=shape).astype(np.uint8), mode).save(path, quality=95)
    return str(path)


def test_odd_sized_jpeg_gets_palette_label_and_overlay_of_its_size_equal_to_caffes_argmax(fcn8s, tmp_path, monkeypatch):
    nets, weights = fcn8s
    image = write_jpeg(tmp_path / 'odd.jpg', 37, 53)
    out = tmp_path / 'out'
    # The CLI reads nets/voc-fcn8s; here the twin's files stand in for the registered variant's.
    monkeypatch.setattr(infer_cli, 'NetFiles', lambda variant: NetFiles(variant, nets.net_dir))
    assert infer_cli.main(['voc-fcn8s', image, '--weights', weights, '--out', str(out)]) == 0
    assert sorted(os.listdir(out)) == ['odd.png', 'odd_overlay.png']
    label_png = Image.open(out / 'odd.png')
    assert label_png.mode == 'P' and label_png.size == (53, 37)
    assert np.array(label_png.getpalette()[:21 * 3]).reshape(21, 3).tolist() == voc_palette()[:21].tolist()

    # Caffe's own forward of the same pixels, preprocessed here by hand: BGR minus the mean, CHW.
    rgb = np.array(Image.open(image).convert('RGB'), dtype=np.float32)
    net = caffe.Net(nets.proto('deploy'), weights, caffe.TEST)
    net.blobs['data'].reshape(1, 3, 37, 53)
    net.blobs['data'].data[0] = (rgb[:, :, ::-1] - np.array(train_fixtures.MEAN, np.float32)).transpose(2, 0, 1)
    net.forward()
    expected = net.blobs['score'].data[0].argmax(axis=0)
    assert len(np.unique(expected)) > 1  # random weights: several classes, so the comparison means something
    np.testing.assert_array_equal(np.array(label_png), expected)

    overlay = np.array(Image.open(out / 'odd_overlay.png'))
    assert overlay.shape == (37, 53, 3)
    np.testing.assert_allclose(overlay, 0.5 * rgb + 0.5 * voc_palette()[expected], atol=0.51)


def test_greyscale_and_second_image_sizes_into_an_existing_folder_never_overwriting(fcn8s, tmp_path):
    nets, weights = fcn8s
    out = tmp_path / 'out'
    out.mkdir()
    images = [write_jpeg(tmp_path / 'grey.jpg', 24, 31, mode='L'), write_jpeg(tmp_path / 'wide.jpg', 19, 64)]
    written = infer(nets, weights, images, str(out), say=lambda line: None)
    assert [os.path.basename(p) for p in written] == ['grey.png', 'grey_overlay.png', 'wide.png', 'wide_overlay.png']
    assert Image.open(out / 'grey.png').size == (31, 24) and Image.open(out / 'wide.png').size == (64, 19)
    before = (out / 'wide.png').read_bytes()
    with pytest.raises(InferError, match='wide.png.*not overwriting'):
        infer(nets, weights, images[1:], str(out), say=lambda line: None)
    assert (out / 'wide.png').read_bytes() == before


def test_missing_image_and_non_photograph_variant_are_clear_errors(fcn8s, tmp_path):
    nets, weights = fcn8s
    with pytest.raises(InferError, match='not found: .*nowhere.jpg'):
        infer(nets, weights, [str(tmp_path / 'nowhere.jpg')], str(tmp_path / 'out'))
    hha = NetFiles(get_variant('nyud-fcn32s-hha'), nets.net_dir)
    with pytest.raises(InferError, match='nyud-fcn32s-hha reads hha, not one RGB photograph'):
        infer(hha, weights, [str(tmp_path / 'nowhere.jpg')], str(tmp_path / 'out'))
    assert not os.path.exists(tmp_path / 'out')
