"""A deterministic toy segmentation dataset in PASCAL VOC's exact on-disk layout.

Four object classes need both shape and texture to tell apart: {circle, square} x {stripes, dots}.
The background is cluttered with the same textures on other shapes (triangles, bars) and with the
same shapes in plain colours, so neither cue alone names a pixel. Like VOC, a void band (255) runs
along every object boundary. Colours are drawn at random everywhere, so colour names nothing.

Written under `out_dir` (read by the real VOC data layer with voc_dir=out_dir):
  JPEGImages/{id}.jpg, SegmentationClass/{id}.png (palette indices, 255 void),
  ImageSets/Segmentation/{train,val}.txt, classes.txt, and dataset.json (the generator's
  parameters and the train split's mean in BGR order, which the demo nets subtract).
Every image has its own random stream seeded by (seed, split, index), so a smaller dataset with
the same seed holds the first images of a larger one.
"""
import json
import os
import shutil

import numpy as np
from PIL import Image
from scipy import ndimage

from caffe_fcn.data.labels import save_label_png
from caffe_fcn.errors import UserError

CLASSES = ('background', 'striped circle', 'dotted circle', 'striped square', 'dotted square')
OBJECT_CLASSES = {1: ('circle', 'stripes'), 2: ('circle', 'dots'),
                  3: ('square', 'stripes'), 4: ('square', 'dots')}
SPLITS = ('train', 'val')
VOID = 255
MANIFEST = 'dataset.json'


class DemoError(UserError, RuntimeError):
    """A demo step that cannot run: its dataset or an earlier step's output is missing or taken."""


# ---- shapes: boolean masks on a pixel grid -------------------------------------------------

def _rotated(yy, xx, cy, cx, angle):
    """Pixel coordinates in a frame centred on (cy, cx) and turned by `angle` radians."""
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = yy - cy, xx - cx
    return c * dx + s * dy, -s * dx + c * dy


def circle(yy, xx, cy, cx, size, angle):
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= size ** 2


def square(yy, xx, cy, cx, size, angle):
    u, v = _rotated(yy, xx, cy, cx, angle)
    half = size * 0.886  # same area as a circle of radius `size`
    return (np.abs(u) <= half) & (np.abs(v) <= half)


def triangle(yy, xx, cy, cx, size, angle):
    """Equilateral triangle with circumradius 1.3 * size."""
    u, v = _rotated(yy, xx, cy, cx, angle)
    inside = np.ones_like(u, dtype=bool)
    for k in range(3):
        a = 2 * np.pi * k / 3
        inside &= np.cos(a) * u + np.sin(a) * v <= 0.65 * size
    return inside


def bar(yy, xx, cy, cx, size, angle):
    """A rectangle four times as long as it is wide: square corners, not a square's outline."""
    u, v = _rotated(yy, xx, cy, cx, angle)
    return (np.abs(u) <= 1.6 * size) & (np.abs(v) <= 0.4 * size)


SHAPES = {'circle': circle, 'square': square, 'triangle': triangle, 'bar': bar}


# ---- textures: HxWx3 float RGB fields -------------------------------------------------------

def _dark_and_light(rng):
    """A dark and a light colour of random hues (channels 0..100 and 155..255): the two inks of
    a texture. Fixed roles (dark dots on light ground) keep textures learnable by a narrow net in
    minutes; the hues stay random, so colour names no class."""
    return rng.uniform(0, 100, size=3), rng.uniform(155, 255, size=3)


def stripes(yy, xx, rng):
    period = rng.uniform(6, 10)
    u, _ = _rotated(yy, xx, 0, 0, rng.uniform(0, np.pi))
    on = (u / period) % 1.0 < 0.5
    dark, light = _dark_and_light(rng)
    return np.where(on[..., None], dark, light)


def dots(yy, xx, rng):
    period = rng.uniform(7, 11)
    radius = rng.uniform(0.22, 0.32) * period
    u, v = _rotated(yy, xx, 0, 0, rng.uniform(0, np.pi / 2))
    du = (u / period) % 1.0 - 0.5
    dv = (v / period) % 1.0 - 0.5
    on = (du ** 2 + dv ** 2) * period ** 2 <= radius ** 2
    dark, light = _dark_and_light(rng)
    return np.where(on[..., None], dark, light)


def plain(yy, xx, rng):
    return np.broadcast_to(rng.uniform(0, 255, size=3), yy.shape + (3,))


TEXTURES = {'stripes': stripes, 'dots': dots, 'plain': plain}


# ---- one image -----------------------------------------------------------------------------

def _background(h, w, rng):
    """A smooth random colour field: a 4x4 grid of colours, bilinearly upsampled."""
    coarse = rng.uniform(30, 225, size=(4, 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR), dtype=np.float64)


def _place(h, w, rng):
    """Centre, size and angle of one shape: sizes 12% to 28% of the shorter side."""
    size = rng.uniform(0.12, 0.28) * min(h, w)
    return rng.uniform(0, h), rng.uniform(0, w), size, rng.uniform(0, np.pi)


def render(rng, min_side=96, max_side=200):
    """One (image HxWx3 uint8 RGB, label HxW uint8) pair drawn from `rng`."""
    h, w = rng.randint(min_side, max_side + 1, size=2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    image = _background(h, w, rng)
    label = np.zeros((h, w), np.uint8)
    # Clutter: object textures on non-object shapes, object shapes in plain colours.
    for _ in range(rng.randint(2, 6)):
        if rng.rand() < 0.5:
            shape, texture = ('triangle', 'bar')[rng.randint(2)], ('stripes', 'dots')[rng.randint(2)]
        else:
            shape, texture = ('circle', 'square')[rng.randint(2)], 'plain'
        mask = SHAPES[shape](yy, xx, *_place(h, w, rng))
        image[mask] = TEXTURES[texture](yy, xx, rng)[mask]
    for _ in range(rng.randint(2, 5)):
        cls = rng.randint(1, len(CLASSES))
        shape, texture = OBJECT_CLASSES[cls]
        mask = SHAPES[shape](yy, xx, *_place(h, w, rng))
        image[mask] = TEXTURES[texture](yy, xx, rng)[mask]
        label[mask] = cls
    # Void band along every boundary between different labels, about 4 px wide as in VOC.
    edge = ndimage.maximum_filter(label, size=3) != ndimage.minimum_filter(label, size=3)
    label[ndimage.binary_dilation(edge)] = VOID
    image += rng.normal(0, 6, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), label


# ---- the dataset on disk -------------------------------------------------------------------

def image_ids(split, count):
    return ['%s_%04d' % (split, i) for i in range(count)]


def _rng(seed, split, index):
    return np.random.RandomState([seed, SPLITS.index(split), index])


def _mean_bgr(folder, ids):
    """Per-channel mean (BGR) of the JPEGs as the data layer will read them."""
    total, pixels = np.zeros(3), 0
    for name in ids:
        rgb = np.asarray(Image.open(os.path.join(folder, 'JPEGImages', name + '.jpg')), np.float64)
        total += rgb.reshape(-1, 3).sum(0)
        pixels += rgb.shape[0] * rgb.shape[1]
    return [round(float(v), 3) for v in (total / pixels)[::-1]]


def read_manifest(out_dir):
    """The parameters and mean of the demo dataset in `out_dir`, or a clear error if absent."""
    path = os.path.join(out_dir, MANIFEST)
    if not os.path.exists(path):
        raise DemoError('no demo dataset at %s (%s missing): run `make demo-data` first'
                            % (out_dir, MANIFEST))
    with open(path) as f:
        return json.load(f)


def generate(out_dir, seed=1337, train=300, val=100, min_side=96, max_side=200, log=print):
    """Write the dataset to `out_dir` and return its manifest.

    An existing dataset made with the same parameters is kept as it is; one made with other
    parameters, or any other content in `out_dir`, is an error: nothing is overwritten.
    """
    params = {'seed': seed, 'train': train, 'val': val, 'min_side': min_side, 'max_side': max_side}
    if not (train > 0 and val > 0 and 16 <= min_side <= max_side):
        raise DemoError('demo dataset needs train > 0, val > 0 and 16 <= min_side <= max_side; '
                            'got %r' % params)
    if os.path.exists(out_dir):
        if not os.path.exists(os.path.join(out_dir, MANIFEST)):
            raise DemoError('%s exists but holds no demo dataset (%s missing); '
                                'move it away or choose another output folder' % (out_dir, MANIFEST))
        manifest = read_manifest(out_dir)
        if manifest['params'] != params:
            raise DemoError('%s holds a demo dataset made with %r, not %r; delete it '
                                '(or choose another output folder) to make a new one'
                                % (out_dir, manifest['params'], params))
        log('demo data: %s is up to date (%d train, %d val images)' % (out_dir, train, val))
        return manifest

    partial = out_dir.rstrip('/') + '.partial'  # only this generator writes here
    shutil.rmtree(partial, ignore_errors=True)
    for sub in ('JPEGImages', 'SegmentationClass', os.path.join('ImageSets', 'Segmentation')):
        os.makedirs(os.path.join(partial, sub))
    for split, count in (('train', train), ('val', val)):
        ids = image_ids(split, count)
        for i, name in enumerate(ids):
            image, label = render(_rng(seed, split, i), min_side, max_side)
            Image.fromarray(image).save(os.path.join(partial, 'JPEGImages', name + '.jpg'), quality=90)
            save_label_png(os.path.join(partial, 'SegmentationClass', name + '.png'), label)
        with open(os.path.join(partial, 'ImageSets', 'Segmentation', split + '.txt'), 'w') as f:
            f.write(''.join(name + '\n' for name in ids))
        log('demo data: %d %s images' % (count, split))
    with open(os.path.join(partial, 'classes.txt'), 'w') as f:
        f.write(''.join(name + '\n' for name in CLASSES))
    manifest = {'params': params, 'classes': list(CLASSES),
                'mean_bgr': _mean_bgr(partial, image_ids('train', train))}
    with open(os.path.join(partial, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=1)
    os.rename(partial, out_dir)
    log('demo data: wrote %s' % out_dir)
    return manifest
