"""python -m caffe_fcn.nets: list, print, write or check the generated nets and solvers.

  python -m caffe_fcn.nets --list                  the variants
  python -m caffe_fcn.nets voc-fcn8s               print every file of a variant
  python -m caffe_fcn.nets voc-fcn8s --net deploy  print one net ('solver' for the solver)
  python -m caffe_fcn.nets voc-fcn32s --layers     the training net on one screen: each layer's type,
                                                   kernel/stride/pad, outputs, crop offset (--net: another net)
  python -m caffe_fcn.nets --write [VARIANT ...]   write nets/ and solvers/ (all by default)
  python -m caffe_fcn.nets --check [VARIANT ...]   exit 1 if checked-in files are out of date
"""
import sys

from caffe_fcn import cli
from caffe_fcn.nets.registry import VARIANTS


def _list():
    for v in VARIANTS.values():
        outputs = ', '.join('%s %d' % (o.name, o.classes) for o in v.outputs)
        print('%-22s %-8s %-7s %-9s %s; nets %s; init %s %s' % (
            v.name, v.dataset, v.trunk, v.head, outputs, '/'.join(v.nets), v.init.kind,
            ' '.join(v.init.sources)))


def _layers(variant, net):
    from caffe_fcn.nets.build import net_proto
    from caffe_fcn.nets.listing import layer_table
    net = net or variant.train_split
    sys.stdout.write(layer_table(net_proto(variant, net), '%s, %s net' % (variant.name, net)))


def _print(variant, net):
    from caffe_fcn.nets import generate
    if net is None:
        for path, text in generate.rendered_files(variant).items():
            print('==> %s <==\n%s' % (path, text))
    elif net == 'solver':
        sys.stdout.write(generate.render_solver(variant))
    else:
        sys.stdout.write(generate.render_net(variant, net))


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.nets', __doc__, 'python -m caffe_fcn.nets voc-fcn32s --layers')
    cli.add_variant(parser, nargs='*', help='variants by registry name (or folder nets/NAME)')
    action = parser.add_mutually_exclusive_group()
    action.add_argument('--list', action='store_true', help='list the variants')
    action.add_argument('--write', action='store_true', help='write the files')
    action.add_argument('--check', action='store_true', help='compare with checked-in files (exit status 1 if any differs)')
    action.add_argument('--layers', action='store_true', help='with one VARIANT: list the layers of its training net '
                                                              '(or of --net) on one screen')
    parser.add_argument('--net', help="with one VARIANT: print only this net, or 'solver'")
    return cli.run(parser, lambda args: _nets(parser, args), argv)


def _nets(parser, args):
    variants = args.variant or list(VARIANTS.values())
    if args.list:
        _list()
    elif args.write:
        from caffe_fcn.nets import generate
        for path, status in generate.write(variants):
            if status != 'unchanged':
                print('%-9s %s' % (status, path))
    elif args.check:
        from caffe_fcn.nets import generate
        stale = generate.out_of_date(variants)
        for path in stale:
            print('out of date: %s (run `make nets`)' % path)
        return 1 if stale else 0
    elif len(args.variant) == 1 and args.layers:
        _layers(args.variant[0], args.net)
    elif len(args.variant) == 1:
        _print(args.variant[0], args.net)
    else:
        parser.error('give one VARIANT to print or list (--layers), or --list, --write or --check')


if __name__ == '__main__':
    sys.exit(main())
