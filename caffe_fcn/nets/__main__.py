"""python -m caffe_fcn.nets: list, print, write or check the generated nets and solvers.

  python -m caffe_fcn.nets --list                  the variants
  python -m caffe_fcn.nets voc-fcn8s               print every file of a variant
  python -m caffe_fcn.nets voc-fcn8s --net deploy  print one net ('solver' for the solver)
  python -m caffe_fcn.nets --write [VARIANT ...]   write nets/ and solvers/ (all by default)
  python -m caffe_fcn.nets --check [VARIANT ...]   exit 1 if checked-in files are out of date
"""
import argparse
import sys

from caffe_fcn.nets import generate
from caffe_fcn.nets.registry import VARIANTS, get_variant


def _list():
    for v in VARIANTS.values():
        outputs = ', '.join('%s %d' % (o.name, o.classes) for o in v.outputs)
        print('%-22s %-8s %-7s %-9s %s; nets %s; init %s %s' % (
            v.name, v.dataset, v.trunk, v.head, outputs, '/'.join(v.nets), v.init.kind,
            v.init.source))


def _print(variant, net):
    if net is None:
        for path, text in generate.rendered_files(variant).items():
            print('==> %s <==\n%s' % (path, text))
    elif net == 'solver':
        sys.stdout.write(generate.render_solver(variant))
    else:
        sys.stdout.write(generate.render_net(variant, net))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.nets', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('variants', nargs='*', metavar='VARIANT')
    action = parser.add_mutually_exclusive_group()
    action.add_argument('--list', action='store_true', help='list the variants')
    action.add_argument('--write', action='store_true', help='write the files')
    action.add_argument('--check', action='store_true', help='compare with checked-in files')
    parser.add_argument('--net', help="with one VARIANT: print only this net, or 'solver'")
    args = parser.parse_args(argv)
    try:
        variants = [get_variant(name) for name in args.variants]
        if args.list:
            _list()
        elif args.write:
            for path, status in generate.write(variants or list(VARIANTS.values())):
                if status != 'unchanged':
                    print('%-9s %s' % (status, path))
        elif args.check:
            stale = generate.out_of_date(variants or list(VARIANTS.values()))
            for path in stale:
                print('out of date: %s (run `make nets`)' % path)
            return 1 if stale else 0
        elif len(variants) == 1:
            _print(variants[0], args.net)
        else:
            parser.error('give one VARIANT to print, or --list, --write or --check')
    except ValueError as err:
        print('error: %s' % err, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
