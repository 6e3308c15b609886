"""Inference cost: `caffe_fcn.evaluate.infer` against a bare pycaffe script (bench/infer_sides.py) running
the same FCN-8s deploy net (random weights) on the same 500x500 images, each side in processes of
its own so that their peak resident sets do not mix.

  cold  from spawning `python -m caffe_fcn.evaluate.infer IMAGE ...` (ours) or the bare script (one image)
        to its last PNG written (the file's modification time)
  warm  per image with the net loaded: the median time between consecutive images' PNGs over
        --images images in one process (the first image, which allocates the blobs, excluded)

Both sides read the same .caffemodel (538 MB for FCN-8s: Caffe must read binary protos over 512 MB,
as BVLC Caffe built by `make setup` does). The file is read once before timing so
neither side pays the disk, and the sides alternate which goes first from run to run.
"""
import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image

from bench import common
from bench.nets import bench_variant, load_net, randomize
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant

VARIANT = 'voc-fcn8s'
TARGET_PERCENT = 3.0
FULL = dict(size=500, images=4)
QUICK = dict(size=64, images=4)


def write_images(folder, count, size, seed=0):
    """`count` size x size JPEGs of smooth random colour fields."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder)
    paths = []
    for index in range(count):
        coarse = rng.integers(0, 256, size=(size // 25 + 2, size // 25 + 2, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((size, size), Image.BILINEAR)
        paths.append(os.path.join(folder, 'image_%02d.jpg' % index))
        image.save(paths[-1], quality=90)
    return paths


def prepare(folder, quick):
    """(net directory, caffemodel): the variant's checked-in deploy net (its narrow twin, written
    under `folder`, for --quick) and random weights for it."""
    if quick:
        net_dir = NetFiles.written(bench_variant(VARIANT, quick=True), os.path.join(folder, VARIANT)).net_dir
    else:
        net_dir = NetFiles(get_variant(VARIANT)).net_dir
    net = load_net(os.path.join(net_dir, 'deploy.prototxt'))
    randomize(net)
    return net_dir, save_weights(net, os.path.join(folder, 'random.caffemodel'))


def read_through(paths):
    """Read files once so that the timed runs find them in the page cache."""
    for path in paths:
        with open(path, 'rb') as f:
            while f.read(1 << 24):
                pass


def last_written(folder):
    return max(os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)) / 1e9


def cold(command):
    """(seconds from spawn to the last PNG written, peak RSS MiB) of one process running `command`
    (a module and its arguments, one of them --out DIR)."""
    out = command[command.index('--out') + 1]
    start = time.time()
    child = common.run_module(*command)
    return last_written(out) - start, child.peak_rss_mib


def warm(command, who):
    """(median seconds between consecutive images, peak RSS MiB) of one process over several images."""
    child = common.run_module(*command)
    gaps = np.diff(child.report['written_at'])
    if len(gaps) < 2:
        raise common.BenchError('%s wrote %d image(s); warm timing needs at least 3' % (who, len(gaps) + 1))
    return float(np.median(gaps)), child.peak_rss_mib


def commands(run, folder, net_dir, weights, images):
    """{side: {'cold': command, 'warm': command}}, each a module and its arguments. Our cold run is
    the command line users type; with --quick (a narrow twin's nets, which the command line does not
    read) it is the same call to caffe_fcn.evaluate.infer.infer as the warm run."""
    variant = get_variant(VARIANT)
    mean = variant.data[variant.test_split].params['mean']
    out = lambda side, kind: os.path.join(folder, 'out-%d-%s-%s' % (run, side, kind))
    ours = ['bench.infer_sides', 'ours', '--variant', VARIANT, '--net-dir', net_dir, '--weights', weights]
    bare = ['--deploy', os.path.join(net_dir, 'deploy.prototxt'), '--weights', weights,
            '--mean', *mean, '--score', variant.outputs[0].score]
    checked_in = net_dir == NetFiles(variant).net_dir
    ours_cold = (['caffe_fcn.evaluate.infer', VARIANT, images[0], '--weights', weights] if checked_in
                 else ours + [images[0]])
    return {'ours': {'cold': ours_cold + ['--out', out('ours', 'cold')],
                     'warm': ours + images + ['--out', out('ours', 'warm')]},
            'bare': {'cold': ['bench.infer_sides', 'bare', images[0], *bare, '--out', out('bare', 'cold')],
                     'warm': ['bench.infer_sides', 'bare', *images, *bare, '--out', out('bare', 'warm')]}}


def measure(run, folder, net_dir, weights, images):
    sides = commands(run, folder, net_dir, weights, images)
    order = ['ours', 'bare'] if run % 2 == 0 else ['bare', 'ours']
    figures = {side: {} for side in order}
    for side in order:
        seconds, rss = cold(sides[side]['cold'])
        figures[side].update(cold_s=seconds, cold_peak_rss_mib=rss)
    for side in order:
        seconds, rss = warm(sides[side]['warm'], '%s warm process' % side)
        figures[side].update(warm_per_image_s=seconds, warm_peak_rss_mib=rss)
    ours, bare = figures['ours'], figures['bare']
    return {'ours': ours, 'bare': bare,
            'cold_overhead_percent': 100 * (ours['cold_s'] / bare['cold_s'] - 1),
            'warm_overhead_percent': 100 * (ours['warm_per_image_s'] / bare['warm_per_image_s'] - 1)}


def targets(median):
    return [common.Target('cold overhead over bare pycaffe', median['cold_overhead_percent'], TARGET_PERCENT, ' %'),
            common.Target('warm overhead over bare pycaffe', median['warm_overhead_percent'], TARGET_PERCENT, ' %')]


def notes(median):
    ours, bare = median['ours'], median['bare']
    return ['peak RSS: ours %.0f MiB cold / %.0f MiB warm, bare %.0f MiB cold / %.0f MiB warm'
            % (ours['cold_peak_rss_mib'], ours['warm_peak_rss_mib'], bare['cold_peak_rss_mib'],
               bare['warm_peak_rss_mib'])]


def rows(median):
    """(figure, median, target) rows for the README table."""
    ours, bare = median['ours'], median['bare']
    return [('FCN-8s cold, process start to PNG', 'ours %.3g s, bare %.3g s: %+.1f %%' % (
                ours['cold_s'], bare['cold_s'], median['cold_overhead_percent']), '<= %g %%' % TARGET_PERCENT),
            ('FCN-8s warm, per image', 'ours %.3g s, bare %.3g s: %+.1f %%' % (
                ours['warm_per_image_s'], bare['warm_per_image_s'], median['warm_overhead_percent']),
             '<= %g %%' % TARGET_PERCENT),
            ('FCN-8s peak RSS, cold', 'ours %.0f MiB, bare %.0f MiB' % (
                ours['cold_peak_rss_mib'], bare['cold_peak_rss_mib']), '')]


def main(argv=None):
    parser = common.argument_parser('infer', __doc__)
    common.add_images(parser, FULL['images'])  # per warm process, at least 3
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.images:
        if args.images < 3:
            parser.error('--images must be at least 3 (warm timing takes the gaps after the first image)')
        sizes['images'] = args.images
    settings = dict(sizes, variant=VARIANT, weights='random (He normal)', quick=args.quick)
    with tempfile.TemporaryDirectory(prefix='bench-infer-') as folder:
        net_dir, weights = prepare(folder, args.quick)
        images = write_images(os.path.join(folder, 'images'), sizes['images'], sizes['size'])
        read_through([weights] + images)
        common.run_module('caffe_fcn.evaluate.infer', '--help')  # untimed: load the libraries once
        return common.run_benchmark('infer', args, argv, settings,
                                    lambda run: measure(run, folder, net_dir, weights, images),
                                    targets=targets, notes=notes)


if __name__ == '__main__':
    common.run_main(main, 'infer')
