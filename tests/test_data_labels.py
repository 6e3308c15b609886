"""Label PNGs carry the VOC colour map and give back exactly the indices written."""
import numpy as np
import pytest
from PIL import Image

from caffe_fcn.data.labels import colorize, load_label_png, save_label_png, voc_palette
from caffe_fcn.data.readers import DataError


def test_palette_matches_the_voc_devkit_colours():
    palette = voc_palette()
    # VOCdevkit's colour map: background, aeroplane, bicycle, person, tvmonitor, and void.
    assert palette[0].tolist() == [0, 0, 0]
    assert palette[1].tolist() == [128, 0, 0]
    assert palette[2].tolist() == [0, 128, 0]
    assert palette[15].tolist() == [192, 128, 128]
    assert palette[20].tolist() == [0, 64, 128]
    assert palette[255].tolist() == [224, 224, 192]
    assert len({tuple(c) for c in palette}) == 256


def test_saved_label_is_a_palette_png_that_reads_back_exactly(tmp_path):
    label = np.array([[0, 1, 2], [15, 20, 255]], dtype=np.uint8)
    path = str(tmp_path / 'label.png')
    save_label_png(path, label)
    image = Image.open(path)
    assert image.mode == 'P'
    assert image.getpalette()[15 * 3:15 * 3 + 3] == [192, 128, 128]
    np.testing.assert_array_equal(load_label_png(path), label)
    np.testing.assert_array_equal(np.array(image.convert('RGB')), colorize(label))


def test_existing_label_file_is_not_overwritten_unless_asked(tmp_path):
    path = str(tmp_path / 'label.png')
    save_label_png(path, np.zeros((2, 2), np.uint8))
    with pytest.raises(DataError, match='already exists'):
        save_label_png(path, np.ones((2, 2), np.uint8))
    np.testing.assert_array_equal(load_label_png(path), 0)
    save_label_png(path, np.ones((2, 2), np.uint8), overwrite=True)
    np.testing.assert_array_equal(load_label_png(path), 1)


@pytest.mark.parametrize('label,message', [
    (np.zeros((2, 2, 3), np.uint8), '2-D'),
    (np.array([[0, 256]]), 'outside the integers 0..255'),
    (np.array([[0.5, 1]]), 'outside the integers 0..255'),
])
def test_bad_labels_are_not_saved(tmp_path, label, message):
    path = tmp_path / 'label.png'
    with pytest.raises(DataError, match=message):
        save_label_png(str(path), label)
    assert not path.exists()
