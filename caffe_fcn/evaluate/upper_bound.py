"""CVPR Appendix A: the mean IU a prediction at a given stride could reach at best, simulated by
downsampling the ground truth by a factor and upsampling it again, then scoring the result
against the ground truth with the paper's metrics.

    python -m caffe_fcn.evaluate.upper_bound --split seg11valid --factors 128,64,32,16,8,4 [--out DIR]
    python -m caffe_fcn.evaluate.upper_bound --data-dir data/demo --split val     # the demo dataset

The labels are read by the test data layer of --variant (default voc-fcn32s: PASCAL VOC,
21 classes; any variant's dataset and split work, each output head is bounded on its own labels);
--data-dir replaces the dataset folder that layer reads.

Down/upsampling (the paper does not say which it used): the label map is cut into factor x factor
blocks from its top-left corner (the last row and column of blocks may be partial); each block
takes the class that most of its labelled pixels have (void pixels do not vote; ties go to the
lower class index; a block with no labelled pixel stays void and holds no scored pixel), and
upsampling repeats that class over the block (nearest neighbour). Why this one: a label map has
no values between classes, so it cannot be interpolated, and a per-block majority is the best
any one-class-per-cell prediction can do for pixel accuracy, which is what an upper bound should
give; decimating (keeping one pixel per block) would instead depend on where in each block the
sample falls and on void samples.
"""
import argparse
import importlib
import os
import sys

import numpy as np

from caffe_fcn import atomic, cli
from caffe_fcn.backend import import_caffe, net_from_proto
from caffe_fcn.errors import UserError
from caffe_fcn.evaluate.metrics import fast_hist, segmentation_metrics
from caffe_fcn.evaluate.published import APPENDIX_A
from caffe_fcn.evaluate.score import split_layer
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.paths import UPPER_BOUND_FILE, resolve

VOID = 255
PAPER_FACTORS = tuple(APPENDIX_A)
DEFAULT_VARIANT = 'voc-fcn32s'


class UpperBoundError(UserError, ValueError):
    pass


def block_majority(label, factor, classes):
    """The downsampled label map: one class per factor x factor block (see the module docstring)."""
    height, width = label.shape
    rows, cols = -(-height // factor), -(-width // factor)
    block = (np.arange(height)[:, None] // factor) * cols + np.arange(width)[None, :] // factor
    labelled = label < classes
    votes = np.bincount(block[labelled] * classes + label[labelled].astype(np.int64),
                        minlength=rows * cols * classes).reshape(rows * cols, classes)
    coarse = votes.argmax(axis=1)
    coarse[votes.max(axis=1) == 0] = VOID
    return coarse.reshape(rows, cols)


def upsample(coarse, factor, shape):
    """Each coarse cell repeated over its factor x factor block, cut to `shape`."""
    return np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)[:shape[0], :shape[1]]


def simulated(label, factor, classes):
    """The label map after downsampling by `factor` and upsampling back to its size."""
    return upsample(block_majority(label, factor, classes), factor, label.shape)


def bound(labels, factors, classes):
    """{factor: metrics of the simulated predictions over all `labels` (one confusion matrix)}."""
    hists = {f: np.zeros((classes, classes), np.int64) for f in factors}
    for label in labels:
        for f in factors:
            hists[f] += fast_hist(label, simulated(label, f, classes), classes)
    return {f: segmentation_metrics(hists[f]) for f in factors}


def label_net(variant, split, data_dir=None):
    """A net of `variant`'s test data layer alone, reading `split` (from `data_dir` if given)."""
    caffe = import_caffe()
    spec = variant.data[variant.test_split]
    params = dict(spec.params, split=split)
    if data_dir:
        layer_class = getattr(importlib.import_module(spec.module), spec.layer)
        params[next(iter(layer_class.folders))] = resolve(data_dir)
    tops = [i.name for i in variant.inputs] + [o.label for o in variant.outputs]
    n = caffe.NetSpec()
    outs = caffe.layers.Python(module=spec.module, layer=spec.layer, ntop=len(tops), param_str=repr(params))
    for name, top in zip(tops, outs if len(tops) > 1 else [outs]):
        n[name] = top
    return net_from_proto(n.to_proto())


def split_labels(net, label_blob):
    """Every label map of the net's split, in file order, as uint8 H x W arrays."""
    for _ in range(len(split_layer(net).ids)):
        net.forward()
        yield net.blobs[label_blob].data[0, 0].astype(np.uint8)


def parse_factors(text):
    try:
        factors = [int(f) for f in text.split(',')]
    except ValueError:
        factors = []
    if not factors or any(f < 1 for f in factors):
        raise argparse.ArgumentTypeError('factors must be positive integers separated by commas, '
                                         'e.g. 128,64,32,16,8,4; got %r' % text)
    return factors


def table(results, factors, variant, output, split):
    lines = ['upper bound of %s (%s) on %s: ground truth down- and upsampled (block majority)'
             % (variant.name, output, split),
             '%6s  %14s  %13s  %7s  %7s  %s' % ('factor', 'pixel accuracy', 'mean accuracy', 'mean IU',
                                                'f.w. IU', 'CVPR App. A mean IU')]
    for f in factors:
        m = results[f]
        paper = '%.1f' % APPENDIX_A[f] if f in APPENDIX_A else '-'
        lines.append('%6d  %14.1f  %13.1f  %7.1f  %7.1f  %s' % (
            f, 100 * m['pixel_accuracy'], 100 * m['mean_accuracy'], 100 * m['mean_iu'],
            100 * m['frequency_weighted_iu'], paper))
    return '\n'.join(lines)


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.upper_bound', __doc__,
                        'python -m caffe_fcn.evaluate.upper_bound --split seg11valid --factors 128,64,32,16,8,4')
    cli.add_variant(parser, option=True, help='whose test data layer reads the labels (default %s: PASCAL VOC)'
                    % DEFAULT_VARIANT)
    cli.add_split(parser, 'the labelled split, e.g. seg11valid (required)')
    parser.add_argument('--data-dir', help="the dataset folder, instead of the data layer's default")
    parser.add_argument('--factors', type=parse_factors, default=list(PAPER_FACTORS),
                        help='downsampling factors, comma-separated (default 128,64,32,16,8,4)')
    cli.add_out(parser, 'also write the metrics to <DIR>/%s' % UPPER_BOUND_FILE)
    return cli.run(parser, _upper_bound, argv)


def _upper_bound(args):
    if not args.split:
        raise UpperBoundError('name the labelled split to bound with --split (e.g. --split seg11valid)')
    results_file = args.out and atomic.check_file_output(os.path.join(resolve(args.out), UPPER_BOUND_FILE), '--out')
    variant = args.variant or get_variant(DEFAULT_VARIANT)
    record = dict(variant=variant.name, split=args.split, data_dir=args.data_dir,
                  method='block majority, nearest upsampling', factors=args.factors, outputs={})
    for o in variant.outputs:  # one pass per head (SIFT Flow has two), labels never all held
        labels = split_labels(label_net(variant, args.split, args.data_dir), o.label)
        results = bound(labels, args.factors, o.classes)
        record['outputs'][o.name] = {str(f): results[f] for f in args.factors}
        print(table(results, args.factors, variant, o.name, args.split))
    if results_file:
        os.makedirs(os.path.dirname(results_file), exist_ok=True)
        print('wrote %s' % atomic.write_json(results_file, record))


if __name__ == '__main__':
    sys.exit(main())
