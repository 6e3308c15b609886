"""Classification crops of a VOC-format segmentation dataset: the demo's stand-in for ILSVRC.

Each crop is a `size` x `size` input (224, the VGG16 classifier's input) that shows a `window` x
`window` patch of one image in its centre and zeros around it (zero is the mean colour, as in
the FCN's own padding). The patch is centred on one object (near its centroid), labelled with
that object's class, or on plain background (class 0) at least `margin` pixels from any object.
Patches are cut at the images' own scale, so what the classifier learns (stripe and dot
textures, circle and square outlines) is what the FCN will see. Classes are drawn uniformly,
then an object (or background pixel) of that class; each crop is flipped left-right at random.
"""
import os

import numpy as np
from scipy import ndimage

from caffe_fcn.backend import import_caffe
from caffe_fcn.data.base import REQUIRED, check_mean, parse_params
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.data.readers import DataError, load_rgb, read_split
from caffe_fcn.data.transform import rgb_to_blob
from caffe_fcn.paths import resolve

caffe = import_caffe()

MIN_OBJECT_PIXELS = 40
JITTER = 4


def centres(label, classes, margin):
    """{class: array of (y, x) pixels a crop of that class may be centred on} for one label map.

    Object classes: the centroid of each visible piece of an object of the class (void
    excluded), or its pixel nearest the centroid when the centroid falls outside the piece;
    pieces under MIN_OBJECT_PIXELS are left out: a crop must show its object. Background:
    every class-0 pixel at least `margin` pixels away from any object pixel."""
    found = {}
    for c in range(1, classes):
        pieces, count = ndimage.label(label == c)
        points = []
        for piece in range(1, count + 1):
            pixels = np.argwhere(pieces == piece)
            if len(pixels) >= MIN_OBJECT_PIXELS:
                centroid = pixels.mean(axis=0)
                points.append(pixels[np.argmin(((pixels - centroid) ** 2).sum(axis=1))])
        if points:
            found[c] = np.array(points)
    objects = (label > 0) & (label < classes)
    far = ndimage.distance_transform_edt(~objects) >= margin
    background = np.argwhere(far & (label == 0))
    if len(background):
        found[0] = background
    return found


def cut(blob, y, x, window, size):
    """A C x size x size array showing the `window` x `window` patch of the C x H x W `blob`
    centred on (y, x) in its own centre; zero everywhere else (and where the patch leaves the blob)."""
    channels, h, w = blob.shape
    out = np.zeros((channels, size, size), np.float32)
    top, left = y - window // 2, x - window // 2
    y0, y1 = max(top, 0), min(top + window, h)
    x0, x1 = max(left, 0), min(left + window, w)
    at = (size - window) // 2
    out[:, at + y0 - top:at + y1 - top, at + x0 - left:at + x1 - left] = blob[:, y0:y1, x0:x1]
    return out


class CropSampler:
    """Draws labelled crops from the images of one split (all held in memory: a demo is small)."""

    def __init__(self, voc_dir, split, mean, classes, size, window, margin, seed):
        folder = resolve(voc_dir)
        ids = read_split(os.path.join(folder, 'ImageSets', 'Segmentation', split + '.txt'))
        self.size, self.window = size, window
        self.rng = np.random.RandomState(seed)
        self.blobs = []
        self.pool = {c: [] for c in range(classes)}  # class -> [(image index, centres)]
        for i, name in enumerate(ids):
            label_path = os.path.join(folder, 'SegmentationClass', name + '.png')
            label = load_label_png(label_path)
            self.blobs.append(rgb_to_blob(load_rgb(os.path.join(folder, 'JPEGImages', name + '.jpg')), mean))
            if self.blobs[-1].shape[1:] != label.shape:
                raise DataError('%s and its image differ in size' % label_path)
            for c, points in centres(label, classes, margin).items():
                self.pool[c].append((i, points))
        self.classes = [c for c, entries in self.pool.items() if entries]
        if len(self.classes) < 2:
            raise DataError('split %r of %s has crop centres for %d class(es) only: too few images?'
                            % (split, folder, len(self.classes)))

    def draw(self):
        """(crop 3 x size x size float32, class); classes without any object in the split are skipped."""
        c = self.classes[self.rng.randint(len(self.classes))]
        index, points = self.pool[c][self.rng.randint(len(self.pool[c]))]
        y, x = points[self.rng.randint(len(points))] + (self.rng.randint(-JITTER, JITTER + 1, size=2)
                                                          if c > 0 else 0)
        crop = cut(self.blobs[index], y, x, self.window, self.size)
        if self.rng.rand() < 0.5:
            crop = crop[:, :, ::-1]
        return crop, c


class CropLayer(caffe.Layer):
    """Tops: data (batch x 3 x size x size), label (batch). param_str keys: voc_dir, split,
    mean (BGR), classes, size (224), window (the patch shown), batch, margin (background
    patches' distance to objects), seed."""

    defaults = {'voc_dir': REQUIRED, 'split': REQUIRED, 'mean': REQUIRED, 'classes': REQUIRED,
                'size': 224, 'window': 96, 'batch': 8, 'margin': 12, 'seed': 1337}

    def setup(self, bottom, top):
        p = parse_params(self.param_str, self.defaults, 'CropLayer')
        if len(top) != 2 or bottom:
            raise DataError('CropLayer: takes no bottoms and has two tops (data, label)')
        for key in ('classes', 'size', 'window', 'batch', 'margin'):
            if isinstance(p[key], bool) or not isinstance(p[key], int) or p[key] < 1:
                raise DataError('CropLayer: %s must be a positive integer, got %r' % (key, p[key]))
        if p['window'] > p['size']:
            raise DataError('CropLayer: window %d is larger than the crop size %d' % (p['window'], p['size']))
        self.batch, self.size = p['batch'], p['size']
        self.sampler = CropSampler(p['voc_dir'], p['split'], check_mean(p['mean'], 'CropLayer'),
                                   p['classes'], p['size'], p['window'], p['margin'], p['seed'])

    def reshape(self, bottom, top):
        top[0].reshape(self.batch, 3, self.size, self.size)
        top[1].reshape(self.batch)

    def forward(self, bottom, top):
        for i in range(self.batch):
            top[0].data[i], top[1].data[i] = self.sampler.draw()

    def backward(self, top, propagate_down, bottom):
        pass
