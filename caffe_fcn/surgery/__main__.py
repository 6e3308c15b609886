"""python -m caffe_fcn.surgery: write starting weights.

  python -m caffe_fcn.surgery vgg16    [--weights FILE] [--out DIR]   ILSVRC VGG16 -> DIR/vgg16-fcn.caffemodel
  python -m caffe_fcn.surgery alexnet  [--weights FILE] [--out DIR]   ILSVRC AlexNet -> DIR/alexnet-fcn.caffemodel
  python -m caffe_fcn.surgery googlenet [--weights FILE] [--out DIR]  BVLC GoogLeNet -> DIR/googlenet-fcn.caffemodel
      (its average pooling, classifier and auxiliary classifiers dropped)
      (defaults: the `make weights-<trunk>` download, DIR weights/)
  python -m caffe_fcn.surgery init VARIANT [--weights FILE ...] [--out DIR]
      a variant's starting weights as its registry init says, into DIR/<variant>-init.caffemodel
      (DIR default weights/init/), from --weights or by default from the files the init names:
      weights/vgg16-fcn.caffemodel for 32s nets, the trained previous stage's
      runs/<stage>/<stage>.caffemodel for 16s/8s, the two trained single-stream nets (in the order
      listed by `python -m caffe_fcn.nets --list`) for color-HHA.

The files are read and written here (caffe_fcn.backend.weights); surgery itself works in memory.
An existing output is never replaced.
"""
import os
import sys

from caffe_fcn import cli
from caffe_fcn.data.sources import WEIGHTS as WEIGHT_SOURCES
from caffe_fcn.paths import WEIGHTS, resolve

TRUNKS = ('vgg16', 'alexnet', 'googlenet')


def _convolutionalize(args):
    from caffe_fcn.backend.weights import check_writable, net_with_weights, save_weights
    from caffe_fcn.nets import ilsvrc
    from caffe_fcn.surgery.convolutionalize import convolutionalize
    trunk = args.command
    out = os.path.join(_folder(args.out, WEIGHTS), '%s-fcn.caffemodel' % trunk)
    check_writable(out)
    weights = os.path.abspath(args.weights[0]) if args.weights else resolve(WEIGHT_SOURCES[trunk].download_to)
    twin, report = convolutionalize(trunk, net_with_weights(ilsvrc.classifier(trunk), weights, where_to_get(trunk)))
    return report, save_weights(twin, out)


def where_to_get(trunk):
    """Where the ILSVRC weights of `trunk` come from, for the error when they are missing or wrong."""
    download = WEIGHT_SOURCES[trunk]
    return 'Get it with `make weights-%s`, or download %s into %s.' % (
        trunk, download.url, os.path.dirname(resolve(download.download_to)))


def _init(args):
    from caffe_fcn.backend import net_from_proto
    from caffe_fcn.backend.weights import check_writable, read_weights, save_weights
    from caffe_fcn.nets.build import net_proto
    from caffe_fcn.surgery.stages import init_variant
    from caffe_fcn.train.prerequisites import start_weights
    variant = args.variant
    out = os.path.join(_folder(args.out, os.path.join(WEIGHTS, 'init')), '%s-init.caffemodel' % variant.name)
    check_writable(out)
    weights = [os.path.abspath(w) for w in args.weights or []]
    sources = [read_weights(path, how) for path, how in start_weights(variant, weights)]
    net = net_from_proto(net_proto(variant, 'deploy'))
    report = init_variant(variant, net, sources)
    return report, save_weights(net, out)


def _folder(out, default):
    """--out from the working directory, or the default folder in the repository."""
    return os.path.abspath(out) if out else resolve(default)


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.surgery', __doc__, 'python -m caffe_fcn.surgery vgg16')
    parser.add_argument('command', choices=TRUNKS + ('init',))
    cli.add_variant(parser, nargs='?', help='the variant to initialise (init only)')
    cli.add_weights(parser, many=True, help='the source caffemodel(s): one for vgg16, alexnet and googlenet')
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
