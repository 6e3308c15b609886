"""Segment any images with a trained variant: a palette label PNG and an overlay PNG per image.

    python -m caffe_fcn.evaluate.infer VARIANT IMAGE|FOLDER|GLOB... --weights FILE --out DIR [--gpu ID] [--skip-done]

The deploy net is reshaped to each image, so any size works; an image too large for one Caffe forward
(2^31 elements in a blob) is segmented in overlapping tiles with the same result (caffe_fcn.evaluate.tiling).
Images are read as RGB, turned as their EXIF orientation says (so labels line up with the photo as it
is displayed), and given the preprocessing of the variant's data layer (BGR, minus the dataset mean).
Writes <out>/<name>.png (class indices with the VOC palette) and <out>/<name>_overlay.png, under the
image's folder relative to the FOLDER or GLOB it came from; a two-headed variant (SIFT Flow) writes
<name>_<head>.png and <name>_<head>_overlay.png. Existing files are never replaced; --skip-done skips
the images already segmented, so an interrupted run goes on with the same command.
"""
import collections
import glob
import os
import sys

import numpy as np
from PIL import Image

from caffe_fcn import atomic, cli
from caffe_fcn.data.constants import COLOUR_MEANS
from caffe_fcn.data.labels import colorize, save_label_png, save_png
from caffe_fcn.data.readers import load_rgb
from caffe_fcn.data.transform import rgb_to_blob
from caffe_fcn.export import engine as engines
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.errors import UserError
from caffe_fcn.evaluate.tiling import BLOB_LIMIT, Plan
from caffe_fcn.progress import Progress

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
    return spec.params.get('mean', COLOUR_MEANS[variant.dataset])


def score_maps(net, proto, outputs, rgb, mean, limit=BLOB_LIMIT):
    """({output name: CxHxW scores} of one HxWx3 RGB image, the tiling Plan used): one forward when the
    net's blobs fit Caffe's `limit` at the image's size, else one per tile (caffe_fcn.evaluate.tiling)."""
    height, width = rgb.shape[:2]
    plan = Plan(proto, [o.score for o in outputs], height, width, limit)
    if plan.whole:
        return _forward(net, outputs, rgb, mean), plan
    maps = {o.name: np.zeros((o.classes, height, width), np.float32) for o in outputs}
    for (y0, y1, x0, x1), (ky0, ky1, kx0, kx1) in plan.tiles:
        for name, scores in _forward(net, outputs, rgb[y0:y1, x0:x1], mean).items():
            maps[name][:, ky0:ky1, kx0:kx1] = scores[:, ky0 - y0:ky1 - y0, kx0 - x0:kx1 - x0]
    return maps, plan


def _forward(net, outputs, rgb, mean):
    blob = rgb_to_blob(rgb, mean)
    net.blobs['data'].reshape(1, *blob.shape)
    net.blobs['data'].data[0] = blob
    net.forward()
    return {o.name: net.blobs[o.score].data[0].copy() for o in outputs}


def segment(net, proto, outputs, rgb, mean, limit=BLOB_LIMIT):
    """({output name: HxW uint8 label map} of one HxWx3 RGB image, the tiling Plan)."""
    maps, plan = score_maps(net, proto, outputs, rgb, mean, limit)
    return {name: scores.argmax(axis=0).astype(np.uint8) for name, scores in maps.items()}, plan


def overlay(rgb, label, alpha=OVERLAY_ALPHA):
    """The image blended with the label's VOC colours."""
    return ((1 - alpha) * rgb + alpha * colorize(label)).round().astype(np.uint8)


IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.ppm', '.pgm', '.webp')


def expand_inputs(arguments):
    """[(image file, its path relative to the folder or glob it came from)] for image files, folders
    (their images, recursively) and globs ('photos/**/*.jpg'), in order, each file once."""
    found = []
    for argument in arguments:
        if os.path.isdir(argument):
            for parent, folders, names in os.walk(argument):
                folders.sort()
                found += [(os.path.join(parent, name), os.path.relpath(os.path.join(parent, name), argument))
                          for name in sorted(names) if name.lower().endswith(IMAGE_EXTENSIONS)]
        elif glob.has_magic(argument) and not os.path.exists(argument):
            base = _fixed_prefix(argument)
            matches = [m for m in sorted(glob.glob(argument, recursive=True)) if os.path.isfile(m)]
            if not matches:
                raise InferError('no image file matches %s' % argument)
            found += [(m, os.path.relpath(m, base)) for m in matches]
        elif os.path.isfile(argument):
            found.append((argument, os.path.basename(argument)))
        else:
            raise InferError('image file or folder not found: %s' % argument)
    seen, unique = set(), []
    for path, relative in found:
        if os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            unique.append((path, relative))
    return unique


def _fixed_prefix(pattern):
    """The folder part of a glob before its first wildcard."""
    parts = []
    for part in pattern.split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    return os.sep.join(parts) or '.'


def output_paths(out_dir, image_path, outputs, relative=None, stems=None):
    """{output name: (label PNG, overlay PNG)} for one image, under its relative folder in `out_dir`.
    Outputs are named after the image's stem, with its extension kept (photo_jpg) when another image
    beside it on disk has the same stem, so that photo.jpg and photo.png never share outputs. `stems`
    ({folder: Counter of its image stems}, filled here) lets many images of one folder share one listing."""
    relative = relative or os.path.basename(image_path)
    stem, extension = os.path.splitext(os.path.basename(relative))
    folder = os.path.dirname(os.path.abspath(image_path))
    stems = {} if stems is None else stems
    if folder not in stems:
        stems[folder] = collections.Counter(os.path.splitext(n)[0] for n in os.listdir(folder)
                                            if n.lower().endswith(IMAGE_EXTENSIONS))
    if stems[folder][stem] > 1:
        stem += '_' + extension.lstrip('.')
    base = os.path.join(out_dir, os.path.dirname(relative))
    paths = {}
    for o in outputs:
        name = stem if len(outputs) == 1 else '%s_%s' % (stem, o.name)
        paths[o.name] = (os.path.join(base, name + '.png'), os.path.join(base, name + '_overlay.png'))
    return paths


def infer(nets, weights, images, out_dir, gpu=None, extra_layers=False, skip_done=False, say=print,
          limit=BLOB_LIMIT, engine='caffe'):
    """Write label and overlay PNGs for every image (files, folders, globs: expand_inputs); returns the
    paths written. With `skip_done`, images whose two PNGs are there already are skipped; any other
    output already there is an error before any work. Photos are turned as their EXIF orientation says.
    An image whose blobs would pass Caffe's `limit` is segmented in tiles (caffe_fcn.evaluate.tiling). The
    net runs on `engine` (caffe_fcn.export.engine)."""
    variant = nets.variant
    mean = colour_mean(variant)
    atomic.check_folder(out_dir, '--out')
    stems = {}
    plans = [(image, output_paths(out_dir, image, variant.outputs, relative, stems))
             for image, relative in expand_inputs(images)]
    targets = [p for _, paths in plans for pair in paths.values() for p in pair]
    if len(set(targets)) != len(targets):
        twice = sorted({p for p in targets if targets.count(p) > 1})
        raise InferError('two inputs would write %s; give them separate folders' % ', '.join(twice))
    if skip_done:
        done = {image for image, paths in plans if all(os.path.exists(p) for pair in paths.values() for p in pair)}
        plans = [(image, paths) for image, paths in plans if image not in done]
        if done:
            say('%d image(s) already segmented in %s, skipped' % (len(done), out_dir))
    taken = [p for _, paths in plans for pair in paths.values() for p in pair if os.path.exists(p)]
    if taken:
        raise InferError('%s already exist(s); not overwriting: choose another --out%s'
                         % (', '.join(taken), '' if skip_done else ', or pass --skip-done to go on with the rest'))
    if not plans:
        return []
    proto = nets.net_param('deploy')
    net = engines.deploy_net(nets, weights, gpu, engine, extra_layers)
    written = []
    progress = Progress('segmented', len(plans), say, unit='images')
    for number, (image, paths) in enumerate(plans, 1):
        rgb = load_rgb(image, orient=True)
        labels, plan = segment(net, proto, variant.outputs, rgb, mean, limit)
        for name, label in labels.items():
            label_path, overlay_path = paths[name]
            os.makedirs(os.path.dirname(label_path), exist_ok=True)
            save_label_png(label_path, label)
            save_png(overlay_path, Image.fromarray(overlay(rgb, label)))
            written += [label_path, overlay_path]
            say('%s -> %s, %s%s' % (image, label_path, overlay_path, '' if plan.whole else
                ' (in %d tiles: the whole image needs %d elements in %s, over Caffe\'s limit of %d)'
                % (len(plan.tiles), plan.count, plan.what, limit)))
        progress.update(number)
    return written


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.infer', __doc__,
                        'python -m caffe_fcn.evaluate.infer voc-fcn8s photo.jpg --weights runs/voc-fcn8s/voc-fcn8s.caffemodel '
                        '--out segmented')
    cli.add_variant(parser)
    cli.add_images(parser)
    cli.add_weights(parser, required=True,
                    help='the trained caffemodel (with --engine onnxruntime also the exported .onnx)')
    cli.add_out(parser, 'the folder for the PNGs', required=True)
    cli.add_gpu(parser)
    cli.add_allow_extra_layers(parser)
    parser.add_argument('--skip-done', action='store_true',
                        help='skip the images whose PNGs are in --out already (to go on after an interruption)')
    cli.add_engine(parser)
    return cli.run(parser, _infer, argv)


def _infer(args):
    infer(NetFiles(args.variant), args.weights, args.images, args.out, args.gpu, args.allow_extra_layers,
          args.skip_done, engine=args.engine)


if __name__ == '__main__':
    sys.exit(main())
