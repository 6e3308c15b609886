"""python -m caffe_fcn.surgery: write starting weights.

  python -m caffe_fcn.surgery vgg16    [--weights W] [--out O]   ILSVRC VGG16 -> weights/vgg16-fcn.caffemodel
  python -m caffe_fcn.surgery alexnet  [--weights W] [--out O]   ILSVRC AlexNet -> weights/alexnet-fcn.caffemodel
  python -m caffe_fcn.surgery init VARIANT --out O [--weights W ...]
      a variant's starting weights as its registry init says: from weights/vgg16-fcn.caffemodel
      (default) for 32s nets, from the trained previous stage for 16s/8s, from the two trained
      single-stream nets (in the order listed by `python -m caffe_fcn.nets --list`) for color-HHA.

An existing output is never replaced unless --force is given.
"""
import argparse
import os
import sys

from caffe_fcn.errors import UserError
from caffe_fcn.surgery.params import SurgeryError


def _absolute(path):
    return os.path.abspath(path) if path else path


def _convolutionalize(args):
    from caffe_fcn.surgery.convolutionalize import FCN_WEIGHTS, convolutionalize
    report = convolutionalize(args.command, _absolute(args.weights), _absolute(args.out), overwrite=args.force)
    return report, args.out or FCN_WEIGHTS[args.command]


def _init(args):
    from caffe_fcn.backend import net_from_proto
    from caffe_fcn.nets.build import net_proto
    from caffe_fcn.nets.registry import get_variant
    from caffe_fcn.backend.weights import check_writable, save_weights
    from caffe_fcn.surgery.stages import init_variant
    if not args.out:
        raise SurgeryError('init needs --out: where to write the starting weights of %s' % args.variant)
    variant = get_variant(args.variant)
    out = _absolute(args.out)
    check_writable(out, args.force)
    net = net_from_proto(net_proto(variant, 'deploy'))
    report = init_variant(variant, net, [_absolute(w) for w in args.weights or []])
    save_weights(net, out, args.force)
    return report, args.out


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.surgery', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['vgg16', 'alexnet', 'init'])
    parser.add_argument('variant', nargs='?', help='the variant to initialise (init only)')
    parser.add_argument('--weights', nargs='+', help='source caffemodel(s)')
    parser.add_argument('--out', help='caffemodel to write')
    parser.add_argument('--force', action='store_true', help='replace an existing output')
    args = parser.parse_args(argv)
    if (args.command == 'init') != (args.variant is not None):
        parser.error('a VARIANT goes with init, and only with init')
    if args.command != 'init' and args.weights:
        if len(args.weights) > 1:
            parser.error('%s takes one --weights file' % args.command)
        args.weights = args.weights[0]
    try:
        report, out = (_init if args.command == 'init' else _convolutionalize)(args)
    except (UserError, ValueError) as err:
        print('error: %s' % err, file=sys.stderr)
        return 1
    print(report)
    print('wrote %s' % out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
