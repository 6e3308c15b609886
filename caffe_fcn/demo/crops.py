"""Classification crops of a VOC-format segmentation dataset: the demo's stand-in for ILSVRC.

Like ILSVRC's object-centred photographs, each crop shows one thing: a `size` x `size` input
(224, the VGG16 classifier's input) holds, in its centre, the square patch of an image that
just covers one object (PAD pixels around it), labelled with the object's class, and zeros
around it (zero is the mean colour, as in the FCN's own padding). Background crops (class 0)
show a patch of the same sizes centred at least `margin` pixels from any object: clutter and
plain background. Patches are cut at the images' own scale, so what the classifier learns
(stripe and dot textures, circle and square outlines) is what the FCN will see. Classes are
drawn uniformly (among those the split has), then an object (or background pixel) of that
class; each crop is flipped left-right at random.
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
PAD = 4


def objects(label, classes):
    """{class: array of (y, x, half)}: per visible piece of an object (void excluded), its pixel
    nearest its centroid and the half side of the square patch around that pixel that covers the
    piece with PAD pixels to spare. Pieces under MIN_OBJECT_PIXELS are left out."""
    found = {}
    for c in range(1, classes):
        pieces, count = ndimage.label(label == c)
        rows = []
        for piece in range(1, count + 1):
            pixels = np.argwhere(pieces == piece)
            if len(pixels) >= MIN_OBJECT_PIXELS:
                centre = pixels[np.argmin(((pixels - pixels.mean(axis=0)) ** 2).sum(axis=1))]
                rows.append(list(centre) + [int(np.abs(pixels - centre).max()) + PAD])
        if rows:
            found[c] = np.array(rows)
    return found


def background(label, classes, margin):
    """(y, x) of every class-0 pixel at least `margin` pixels away from any object pixel."""
    thing = (label > 0) & (label < classes)
    return np.argwhere((ndimage.distance_transform_edt(~thing) >= margin) & (label == 0))


def cut(blob, y, x, half, size):
    """A C x size x size array showing the square patch of the C x H x W `blob` with centre
    (y, x) and half side `half` in its own centre; zero everywhere else (and where the patch
    leaves the blob)."""
    channels, h, w = blob.shape
    out = np.zeros((channels, size, size), np.float32)
    y0, y1 = max(y - half, 0), min(y + half + 1, h)
    x0, x1 = max(x - half, 0), min(x + half + 1, w)
    at = size // 2
    out[:, at + y0 - y:at + y1 - y, at + x0 - x:at + x1 - x] = blob[:, y0:y1, x0:x1]
    return out


class CropSampler:
    """Draws labelled crops from the images of one split (all held in memory: a demo is small)."""

    def __init__(self, voc_dir, split, mean, classes, size, margin, seed):
        folder = resolve(voc_dir)
        ids = read_split(os.path.join(folder, 'ImageSets', 'Segmentation', split + '.txt'))
        self.size = size
        self.rng = np.random.RandomState(seed)
        self.blobs = []
        self.pool = {c: [] for c in range(classes)}  # class -> [(image index, candidate rows)]
        for i, name in enumerate(ids):
            label_path = os.path.join(folder, 'SegmentationClass', name + '.png')
            label = load_label_png(label_path)
            self.blobs.append(rgb_to_blob(load_rgb(os.path.join(folder, 'JPEGImages', name + '.jpg')), mean))
            if self.blobs[-1].shape[1:] != label.shape:
                raise DataError('%s and its image differ in size' % label_path)
            for c, rows in objects(label, classes).items():
                self.pool[c].append((i, rows))
            points = background(label, classes, margin)
            if len(points):
                self.pool[0].append((i, points))
        # Background patches take the sizes of object patches, so a patch's size names no class.
        self.halves = [h for c in range(1, classes) for _, rows in self.pool[c] for h in rows[:, 2]]
        self.classes = [c for c, entries in self.pool.items() if entries]
        if len(self.classes) < 2 or not self.halves:
            raise DataError('split %r of %s has crop centres for %d class(es) only: too few images?'
                            % (split, folder, len(self.classes)))

    def draw(self):
        """(crop 3 x size x size float32, class); classes without any object in the split are skipped."""
        c = self.classes[self.rng.randint(len(self.classes))]
        index, rows = self.pool[c][self.rng.randint(len(self.pool[c]))]
        row = rows[self.rng.randint(len(rows))]
        y, x = row[:2]
        half = row[2] if c > 0 else self.halves[self.rng.randint(len(self.halves))]
        crop = cut(self.blobs[index], y, x, min(half, (self.size - 1) // 2), self.size)
        if self.rng.rand() < 0.5:
            crop = crop[:, :, ::-1]
        return crop, c


class CropLayer(caffe.Layer):
    """Tops: data (batch x 3 x size x size), label (batch). param_str keys: voc_dir, split,
    mean (BGR), classes, size (224), batch, margin (background patches' distance to objects), seed."""

    defaults = {'voc_dir': REQUIRED, 'split': REQUIRED, 'mean': REQUIRED, 'classes': REQUIRED,
                'size': 224, 'batch': 8, 'margin': 12, 'seed': 1337}

    def setup(self, bottom, top):
        p = parse_params(self.param_str, self.defaults, 'CropLayer')
        if len(top) != 2 or bottom:
            raise DataError('CropLayer: takes no bottoms and has two tops (data, label)')
        for key in ('classes', 'size', 'batch', 'margin'):
            if isinstance(p[key], bool) or not isinstance(p[key], int) or p[key] < 1:
                raise DataError('CropLayer: %s must be a positive integer, got %r' % (key, p[key]))
        self.batch, self.size = p['batch'], p['size']
        self.sampler = CropSampler(p['voc_dir'], p['split'], check_mean(p['mean'], 'CropLayer'),
                                   p['classes'], p['size'], p['margin'], p['seed'])

    def reshape(self, bottom, top):
        top[0].reshape(self.batch, 3, self.size, self.size)
        top[1].reshape(self.batch)

    def forward(self, bottom, top):
        for i in range(self.batch):
            top[0].data[i], top[1].data[i] = self.sampler.draw()

    def backward(self, top, propagate_down, bottom):
        pass
