"""python -m caffe_fcn.surgery: write starting weights.

  python -m caffe_fcn.surgery vgg16    [--weights FILE] [--out DIR]   ILSVRC VGG16 -> DIR/vgg16-fcn.caffemodel
  python -m caffe_fcn.surgery alexnet  [--weights FILE] [--out DIR]   ILSVRC AlexNet -> DIR/alexnet-fcn.caffemodel
      (defaults: the `make weights-<trunk>` download, DIR weights/)
  python -m caffe_fcn.surgery init VARIANT [--weights FILE ...] [--out DIR]
      a variant's starting weights as its registry init says, into DIR/<variant>-init.caffemodel
      (DIR default weights/init/): from weights/vgg16-fcn.caffemodel (default) for 32s nets, from
      the trained previous stage for 16s/8s, from the two trained single-stream nets (in the order
      listed by `python -m caffe_fcn.nets --list`) for color-HHA.

An existing output is never replaced.
"""
import os
import sys

from caffe_fcn import cli
from caffe_fcn.paths import resolve

TRUNKS = ('vgg16', 'alexnet')


def _convolutionalize(args):
    from caffe_fcn.surgery.convolutionalize import convolutionalize
    out = os.path.join(_folder(args.out, 'weights'), '%s-fcn.caffemodel' % args.command)
    weights = os.path.abspath(args.weights[0]) if args.weights else None
    return convolutionalize(args.command, weights, out), out


def _init(args):
    from caffe_fcn.backend import net_from_proto
    from caffe_fcn.backend.weights import check_writable, save_weights
    from caffe_fcn.nets.build import net_proto
    from caffe_fcn.surgery.stages import init_variant
    out = os.path.join(_folder(args.out, os.path.join('weights', 'init')), '%s-init.caffemodel' % args.variant.name)
    check_writable(out)
    net = net_from_proto(net_proto(args.variant, 'deploy'))
    report = init_variant(args.variant, net, [os.path.abspath(w) for w in args.weights or []])
    save_weights(net, out)
    return report, out


def _folder(out, default):
    """--out from the working directory, or the default folder in the repository."""
    return os.path.abspath(out) if out else resolve(default)


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.surgery', __doc__, 'python -m caffe_fcn.surgery vgg16')
    parser.add_argument('command', choices=TRUNKS + ('init',))
    cli.add_variant(parser, nargs='?', help='the variant to initialise (init only)')
    cli.add_weights(parser, many=True, help='the source caffemodel(s): one for vgg16 and alexnet')
    cli.add_out(parser, 'where to write the weights (default: weights/, for init weights/init/)')
    return cli.run(parser, lambda args: _surgery(parser, args), argv)


def _surgery(parser, args):
    if (args.command == 'init') != (args.variant is not None):
        parser.error('a VARIANT goes with init, and only with init')
    if args.command != 'init' and args.weights and len(args.weights) > 1:
        parser.error('%s takes one --weights file' % args.command)
    report, out = (_init if args.command == 'init' else _convolutionalize)(args)
    print(report)
    print('wrote %s' % out)


if __name__ == '__main__':
    sys.exit(main())
