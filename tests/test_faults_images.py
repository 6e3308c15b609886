"""Fault corpus, images: a photo too large for one Caffe forward is segmented in tiles with the result
of one forward (case 4), a 16-bit PNG is read at its true brightness (10), an EXIF-rotated photo is
segmented as displayed while data layers read pixels as stored (11)."""
import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

import fault_support as fs
import train_fixtures
from caffe_fcn.backend import select_device
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.data.readers import DataError, load_rgb
from caffe_fcn.evaluate import infer as infer_module
from caffe_fcn.evaluate.infer import infer, score_maps, segment
from caffe_fcn.evaluate.tiling import BLOB_LIMIT, Plan, largest_count, shapes
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant

caffe = select_device()
QUIET = dict(say=lambda line: None)


@pytest.fixture(scope='module')
def fcn8s(tmp_path_factory):
    """(NetFiles, weights, deploy NetParameter, caffe.Net) of a narrow voc-fcn8s twin with random weights."""
    folder = tmp_path_factory.mktemp('faults-images')
    nets, net = train_fixtures.random_fcn8s_twin(folder)
    return nets, save_weights(net, str(folder / 'twin.caffemodel')), nets.net_param('deploy'), net


def photo(height, width, seed=0):
    """A smooth random photo (blobs of colour), so that the labels form regions."""
    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, size=(height // 16 + 2, width // 16 + 2, 3)).astype(np.uint8)
    return np.array(Image.fromarray(small).resize((width, height), Image.BILINEAR))


# ---- case 4: images beyond Caffe's 2^31-element blobs -------------------------------------------------

@pytest.mark.parametrize('height, width', [(37, 53), (64, 64), (101, 230)])
def test_blob_shapes_by_the_shape_rules_equal_caffes_own_reshape(fcn8s, height, width):
    nets, _, proto, net = fcn8s
    net.blobs['data'].reshape(1, 3, height, width)
    net.reshape()
    ours, buffers = shapes(proto, height, width)
    splits = [name for name in net.blobs if name not in ours]  # Caffe's own split blobs, shaped as their source
    assert all('_split_' in name for name in splits) and len(ours) > 30
    assert {name: (1,) + ours[name] for name in ours} == {name: net.blobs[name].data.shape for name in ours}
    # conv1_2: 4 input channels x 3 x 3 kernel per output pixel (pad 100 on conv1_1: H + 198 rows).
    assert buffers['conv1_2'] == 4 * 9 * (height + 198) * (width + 198)


def test_shape_rules_cover_every_registered_net_and_match_caffe_on_the_alexnet_twin():
    """FCN-AlexNet has LRN and grouped convolutions; every deploy net of the registry can be sized."""
    from caffe_fcn.backend import net_from_proto
    from caffe_fcn.nets.registry import VARIANTS
    for variant in VARIANTS.values():
        blobs, _ = shapes(net_proto(variant, 'deploy'), 97, 131)
        assert all(blobs[o.score][1:] == (97, 131) for o in variant.outputs), variant.name
    alexnet = dataclasses.replace(get_variant('voc-fcn-alexnet'), widths=train_fixtures.WIDTHS)
    proto = net_proto(alexnet, 'deploy')
    net = net_from_proto(proto)
    net.blobs['data'].reshape(1, 3, 77, 101)
    net.reshape()
    ours, buffers = shapes(proto, 77, 101)
    assert {name: (1,) + ours[name] for name in ours} == {name: net.blobs[name].data.shape for name in ours}


def test_full_size_fcn8s_on_a_2000_x_1500_photo_passes_the_limit_in_conv1_2s_buffer():
    proto = net_proto(get_variant('voc-fcn8s'), 'deploy')
    count, what = largest_count(proto, 1500, 2000)
    assert (count, what) == (64 * 9 * (1500 + 198) * (2000 + 198), "the im2col buffer of 'conv1_2'")
    assert count > BLOB_LIMIT >= largest_count(proto, 1000, 1000)[0]
    plan = Plan(proto, ['score'], 1500, 2000)
    assert not plan.whole and len(plan.tiles) > 1 and plan.tile % 32 == 0
    assert largest_count(proto, plan.tile, plan.tile)[0] <= BLOB_LIMIT
    # every output pixel is taken from exactly one tile
    covered = np.zeros((1500, 2000), int)
    for _, (y0, y1, x0, x1) in plan.tiles:
        covered[y0:y1, x0:x1] += 1
    assert (covered == 1).all()


def test_tiled_scores_equal_one_forward_of_the_whole_image(fcn8s):
    """A limit that the 700 x 650 image passes but a 640 x 640 tile fits: 2 x 2 tiles, each output
    pixel at least a margin (half the receptive field and a stride) inside its tile."""
    nets, _, proto, net = fcn8s
    rgb = photo(700, 650)
    outputs = nets.variant.outputs
    whole, plan = score_maps(net, proto, outputs, rgb, train_fixtures.MEAN)
    assert plan.whole
    limit = largest_count(proto, 640, 640)[0]
    tiled, plan = score_maps(net, proto, outputs, rgb, train_fixtures.MEAN, limit)
    # the twin's score pixels see 460 input pixels: margin 230 + 32 -> 288, so tiles step by 64
    assert not plan.whole and (plan.tile, plan.margin, len(plan.tiles)) == (640, 288, 4)
    # equal to float32 rounding of sums of this size (GEMMs of other shapes add in another order)
    scale = np.abs(whole['semantic']).max()
    np.testing.assert_allclose(tiled['semantic'], whole['semantic'], rtol=0, atol=1e-5 * scale)
    labels = whole['semantic'].argmax(axis=0)
    assert len(np.unique(labels)) > 3  # several classes: the comparison means something
    top2 = np.sort(whole['semantic'], axis=0)[-2:]
    decided = top2[1] - top2[0] > 1e-3
    assert (tiled['semantic'].argmax(axis=0)[decided] == labels[decided]).all()


def test_infer_writes_the_tiled_labels_and_says_so(fcn8s, tmp_path):
    nets, weights, proto, net = fcn8s
    rgb = photo(680, 672, seed=1)
    Image.fromarray(rgb).save(tmp_path / 'big.png')
    lines = []
    limit = largest_count(proto, 640, 640)[0]
    infer(nets, weights, [str(tmp_path / 'big.png')], str(tmp_path / 'out'), limit=limit, say=lines.append)
    assert 'in 4 tiles: the whole image needs %d elements in ' % largest_count(proto, 680, 672)[0] in lines[0]
    expected, _ = segment(net, proto, nets.variant.outputs, rgb, train_fixtures.MEAN)
    written = np.array(Image.open(tmp_path / 'out' / 'big.png'))
    assert (written == expected['semantic']).mean() > 0.999


# ---- case 10: 16-bit PNGs ----------------------------------------------------------------------

def test_16_bit_greyscale_png_is_read_by_its_high_byte_not_clipped_to_white(fcn8s, tmp_path):
    values = np.random.RandomState(2).randint(0, 65536, size=(40, 50)).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / 'depthlike.png')
    assert Image.open(tmp_path / 'depthlike.png').mode == 'I;16'
    rgb = load_rgb(str(tmp_path / 'depthlike.png'))
    assert rgb.dtype == np.uint8 and rgb.shape == (40, 50, 3)
    assert (rgb == (values >> 8)[:, :, None]).all()  # hand-computed: 16-bit v -> v // 256
    assert (rgb < 250).mean() > 0.9  # not almost pure white, as convert('RGB') made it
    nets, weights, proto, net = fcn8s
    infer(nets, weights, [str(tmp_path / 'depthlike.png')], str(tmp_path / 'out'), **QUIET)
    expected, _ = segment(net, proto, nets.variant.outputs, rgb, train_fixtures.MEAN)
    assert (np.array(Image.open(tmp_path / 'out' / 'depthlike.png')) == expected['semantic']).all()


def test_32_bit_integer_image_is_refused_naming_the_file(fcn8s, tmp_path):
    Image.fromarray(np.arange(12, dtype=np.int32).reshape(3, 4) * 100000).save(tmp_path / 'counts.tif')
    with pytest.raises(DataError, match=r'counts.tif holds 32-bit integer pixels \(mode I\), which have no one '
                                        r'8-bit reading: save it with 8 or 16 bits per channel'):
        load_rgb(str(tmp_path / 'counts.tif'))
    nets, weights, _, _ = fcn8s
    before = fs.tree(tmp_path)
    done = fs.cli('caffe_fcn.evaluate.infer', 'voc-fcn8s', str(tmp_path / 'counts.tif'), '--weights', weights,
                  '--out', str(tmp_path / 'out'), twins={'voc-fcn8s': nets.net_dir})
    assert 'holds 32-bit integer pixels' in fs.error_line(done, 'python -m caffe_fcn.evaluate.infer')
    assert fs.tree(tmp_path) == before


# ---- case 11: EXIF orientation --------------------------------------------------------------------

def test_exif_rotated_photo_is_segmented_as_displayed_and_read_as_stored_by_data_layers(fcn8s, tmp_path):
    stored = photo(48, 80, seed=3)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(stored).save(tmp_path / 'phone.jpg', quality=95, exif=exif)
    as_stored = load_rgb(str(tmp_path / 'phone.jpg'))
    assert as_stored.shape == (48, 80, 3)  # data layers: pixels as stored
    displayed = np.rot90(as_stored, k=-1)  # by hand: clockwise
    assert (load_rgb(str(tmp_path / 'phone.jpg'), orient=True) == displayed).all()
    nets, weights, proto, net = fcn8s
    infer(nets, weights, [str(tmp_path / 'phone.jpg')], str(tmp_path / 'out'), **QUIET)
    label = np.array(Image.open(tmp_path / 'out' / 'phone.png'))
    assert label.shape == (80, 48)
    expected, _ = segment(net, proto, nets.variant.outputs, np.ascontiguousarray(displayed), train_fixtures.MEAN)
    assert (label == expected['semantic']).all()
    assert len(np.unique(label)) > 1


# ---- researchers also expect: folders and globs, relative paths, --skip-done ----------------------

def test_folders_and_globs_keep_relative_paths_and_skip_done_goes_on_after_an_interruption(fcn8s, tmp_path):
    nets, weights, _, _ = fcn8s
    for relative in ('trip/a.jpg', 'trip/a.png', 'trip/day2/b.jpg', 'other/a.jpg'):
        os.makedirs(os.path.dirname(str(tmp_path / 'in' / relative)), exist_ok=True)
        Image.fromarray(photo(30, 40, seed=len(relative))).save(tmp_path / 'in' / relative)
    out = tmp_path / 'out'
    written = infer(nets, weights, [str(tmp_path / 'in' / 'trip'), str(tmp_path / 'in' / 'other' / '*.jpg')],
                    str(out), **QUIET)
    labels = sorted(os.path.relpath(p, out) for p in written if not p.endswith('_overlay.png'))
    # trip/a.jpg and trip/a.png keep their extensions apart; other/a.jpg, from a glob, is a.png at the top
    assert labels == ['a.png', 'a_jpg.png', 'a_png.png', os.path.join('day2', 'b.png')]
    # An interrupted run: one image's outputs missing. --skip-done segments only that one.
    os.remove(out / 'day2' / 'b.png')
    os.remove(out / 'day2' / 'b_overlay.png')
    before = fs.tree(out)
    lines = []
    again = infer(nets, weights, [str(tmp_path / 'in' / 'trip')], str(out), skip_done=True, say=lines.append)
    assert [os.path.relpath(p, out) for p in again] == [os.path.join('day2', 'b.png'), os.path.join('day2', 'b_overlay.png')]
    assert lines[0] == '2 image(s) already segmented in %s, skipped' % out
    assert all(fs.tree(out)[p] == state for p, state in before.items())
    with pytest.raises(infer_module.InferError, match=r'already exist\(s\); not overwriting: choose another --out, '
                                                      r'or pass --skip-done to go on with the rest'):
        infer(nets, weights, [str(tmp_path / 'in' / 'trip')], str(out), **QUIET)
