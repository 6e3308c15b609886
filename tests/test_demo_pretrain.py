"""The demo's ILSVRC stand-in: classification crops, random initialisation, the classifier nets."""
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from caffe_fcn.backend import select_device
from caffe_fcn.data.labels import save_label_png
from caffe_fcn.data.readers import DataError
from caffe_fcn.demo import crops, random_init
from caffe_fcn.demo.pretrain import classifier_net
from caffe_fcn.nets import ilsvrc
from caffe_fcn.backend import net_from_proto

caffe = select_device()


def test_cut_places_the_patch_in_the_centre_and_zeros_elsewhere_hand_computed():
    blob = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6) + 1
    out = crops.cut(blob, 0, 5, half=1, size=5)
    expected = np.zeros((2, 5, 5), np.float32)
    # the patch covers rows -1..1 and columns 4..6 of the blob: rows 0..1, columns 4..5 exist
    expected[:, 2:4, 1:3] = blob[:, 0:2, 4:6]
    assert np.array_equal(out, expected)


def test_object_patches_are_centred_on_their_object_and_cover_it_with_pad():
    label = np.zeros((60, 60), np.uint8)
    label[10:31, 10:31] = 3  # 21 x 21: centre (20, 20), farthest pixel 10 away
    label[40:50, 40:55] = 1
    label[45, 5] = 2  # a single pixel: too small to be a crop's object
    found = crops.objects(label, 5)
    assert sorted(found) == [1, 3]
    assert found[3].tolist() == [[20, 20, 10 + crops.PAD]]
    (y, x, half), = found[1]
    assert label[y, x] == 1 and half == max(y - 40, 49 - y, x - 40, 54 - x) + crops.PAD


def test_background_centres_keep_the_margin_from_objects():
    label = np.zeros((60, 60), np.uint8)
    label[10:30, 10:30] = 3
    label[0, 59] = 255
    points = crops.background(label, 5, margin=6)
    distance = ndimage.distance_transform_edt(label != 3)
    assert len(points) and all(distance[y, x] >= 6 and label[y, x] == 0 for y, x in points)
    assert len(points) == np.sum((distance >= 6) & (label == 0))


def test_crop_sampler_refuses_a_split_with_one_class(tmp_path):
    """One image holding one object and no background far enough from it: one class only."""
    for folder in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / 'ImageSets/Segmentation/val.txt').write_text('only\n')
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(str(tmp_path / 'JPEGImages/only.jpg'))
    label = np.zeros((40, 40), np.uint8)
    label[10:30, 10:30] = 2
    save_label_png(str(tmp_path / 'SegmentationClass/only.png'), label)
    with pytest.raises(DataError, match='1 class'):
        crops.CropSampler(str(tmp_path), 'val', np.zeros(3, np.float32), classes=5, size=64, margin=100, seed=1)


def test_he_init_has_the_he_scale_first_layer_divided_by_pixel_scale_and_leaves_score_layers():
    net = net_from_proto(ilsvrc.convolutionalized('vgg16', widths=(8, 8, 16, 16, 16, 32), classes=5, size=64))
    names = random_init.trunk_layers(net, stop_before='fc8')
    assert names[0] == 'conv1_1' and names[-1] == 'fc7' and 'fc8' not in names
    random_init.he_init(net, names, seed=1)
    for i, name in enumerate(names):
        weights = net.params[name][0].data
        expected = np.sqrt(2.0 / np.prod(weights.shape[1:])) / (random_init.PIXEL_STD if i == 0 else 1)
        assert abs(weights.std() / expected - 1) < 0.1, name
        assert not net.params[name][1].data.any()
    assert not net.params['fc8'][0].data.any()  # Caffe's zero default: untouched


def test_classifier_net_is_the_ilsvrc_classifier_layer_for_layer():
    """The training net's parameter layers are those of caffe_fcn.nets.ilsvrc.classifier."""
    widths = (8, 8, 16, 16, 16, 32)
    ours = classifier_net(widths, 5, dict(voc_dir='x', mean=[0, 0, 0], classes=5), 'train')
    theirs = ilsvrc.classifier('vgg16', widths=widths, classes=5)
    learned = lambda proto: [(l.name, l.type, str(l.convolution_param), str(l.inner_product_param))
                             for l in proto.layer if l.type in ('Convolution', 'InnerProduct')]
    assert learned(ours) == learned(theirs)
    assert {'SoftmaxWithLoss', 'Accuracy'} <= {l.type for l in ours.layer}
