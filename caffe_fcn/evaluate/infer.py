"""Segment any images with a trained variant: a palette label PNG and an overlay PNG per image.

    python -m caffe_fcn.evaluate.infer photo.jpg other.png --net nets/voc-fcn8s --weights runs/voc-fcn8s/voc-fcn8s.caffemodel --out out/

The deploy net is reshaped to each image, so any size works. Images are read as RGB and given the
same preprocessing as the variant's data layer (BGR, minus the dataset mean). Writes <out>/<name>.png
(class indices with the VOC palette) and <out>/<name>_overlay.png; a two-headed variant (SIFT Flow)
writes <name>_<head>.png and <name>_<head>_overlay.png. Existing files are never replaced.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

from caffe_fcn.data.labels import colorize, save_label_png
from caffe_fcn.data.nyud import COLOR_MEAN_BGR
from caffe_fcn.data.readers import load_rgb
from caffe_fcn.data.siftflow import SIFTFLOW_MEAN_BGR
from caffe_fcn.data.transform import rgb_to_blob
from caffe_fcn.data.voc import VOC_MEAN_BGR
from caffe_fcn.backend import check_device
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.errors import UserError

#: The mean each dataset's data layer subtracts from colour images, where its params name none.
DATASET_MEANS = {'voc': VOC_MEAN_BGR, 'context': VOC_MEAN_BGR, 'siftflow': SIFTFLOW_MEAN_BGR,
                 'nyud': COLOR_MEAN_BGR}
OVERLAY_ALPHA = 0.5


class InferError(UserError, ValueError):
    pass


def colour_mean(variant):
    """The BGR mean for RGB photographs fed to `variant`, which must take one colour image."""
    spec = variant.data[variant.test_split]
    tops = spec.params.get('tops', [i.name for i in variant.inputs])  # NYUD names its image kinds
    if len(variant.inputs) != 1 or variant.inputs[0].channels != 3 or tops[0] not in ('data', 'color'):
        raise InferError('%s reads %s, not one RGB photograph: infer takes photographs only; score it on its '
                         'dataset with python -m caffe_fcn.evaluate.score' % (variant.name, ' + '.join(tops[:-1] or tops)))
    return spec.params.get('mean', DATASET_MEANS[variant.dataset])


def segment(net, outputs, rgb, mean):
    """{output name: HxW uint8 label map} of one HxWx3 RGB image."""
    blob = rgb_to_blob(rgb, mean)
    net.blobs['data'].reshape(1, *blob.shape)
    net.blobs['data'].data[0] = blob
    net.forward()
    return {o.name: net.blobs[o.score].data[0].argmax(axis=0).astype(np.uint8) for o in outputs}


def overlay(rgb, label, alpha=OVERLAY_ALPHA):
    """The image blended with the label's VOC colours."""
    return ((1 - alpha) * rgb + alpha * colorize(label)).round().astype(np.uint8)


def output_paths(out_dir, image_path, outputs):
    """{output name: (label PNG, overlay PNG)} for one image."""
    stem = os.path.splitext(os.path.basename(image_path))[0]
    paths = {}
    for o in outputs:
        name = stem if len(outputs) == 1 else '%s_%s' % (stem, o.name)
        paths[o.name] = (os.path.join(out_dir, name + '.png'), os.path.join(out_dir, name + '_overlay.png'))
    return paths


def infer(nets, weights, images, out_dir, gpu=None, say=print):
    """Write label and overlay PNGs for every image; returns the paths written."""
    variant = nets.variant
    mean = colour_mean(variant)
    missing = [image for image in images if not os.path.isfile(image)]
    if missing:
        raise InferError('image file(s) not found: %s' % ', '.join(missing))
    plans = [(image, output_paths(out_dir, image, variant.outputs)) for image in images]
    targets = [p for _, paths in plans for pair in paths.values() for p in pair]
    taken = [p for p in targets if os.path.exists(p)]
    if taken or len(set(targets)) != len(targets):
        raise InferError('%s: not overwriting existing files or writing one twice (two images with the '
                         'same name?); choose another --out' % (', '.join(taken) or 'duplicate output names'))
    net = nets.deploy_net(weights, gpu)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for image, paths in plans:
        rgb = load_rgb(image)
        for name, label in segment(net, variant.outputs, rgb, mean).items():
            label_path, overlay_path = paths[name]
            save_label_png(label_path, label)
            Image.fromarray(overlay(rgb, label)).save(overlay_path)
            written += [label_path, overlay_path]
            say('%s -> %s, %s' % (image, label_path, overlay_path))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.evaluate.infer', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('images', nargs='+', metavar='IMAGE')
    parser.add_argument('--net', required=True, help='net directory of a variant, e.g. nets/voc-fcn8s')
    parser.add_argument('--weights', required=True, help='trained caffemodel')
    parser.add_argument('--out', required=True, help='folder for the PNGs (may exist)')
    parser.add_argument('--gpu', type=int, help='CUDA device (default: CPU)')
    args = parser.parse_args(argv)
    try:
        check_device(args.gpu)
        infer(NetFiles(args.net), args.weights, args.images, args.out, args.gpu)
    except (OSError, ValueError, RuntimeError) as err:
        sys.exit('infer: %s' % err)


if __name__ == '__main__':
    main()
