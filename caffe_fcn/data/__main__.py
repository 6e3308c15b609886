"""Fetch datasets and weights: `python -m caffe_fcn.data fetch voc sbd`, `... weights vgg16`,
`... list`. The `make data-*` and `make weights-*` targets call this."""
import sys

from caffe_fcn import cli
from caffe_fcn.data.fetch import fetch_dataset, fetch_weights
from caffe_fcn.data.sources import DATASETS, WEIGHTS
from caffe_fcn.errors import UserError


def describe(source):
    check = ('%s %s' % (source.checksum.algorithm, source.checksum.hexdigest) if source.checksum else
             'no published checksum: checked by %s' % ('reading the archive and its layout' if source.is_archive
                                                        else 'parsing it for its layers'))
    return '    %s\n      -> %s\n      %s' % (source.url, ', '.join(source.destinations), check)


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.data', __doc__, 'python -m caffe_fcn.data fetch voc sbd')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='what can be fetched, from where, and how it is checked')
    data = commands.add_parser('fetch', help='download, verify and unpack datasets into data/')
    data.add_argument('names', nargs='+', metavar='dataset', help=', '.join(DATASETS))
    weights = commands.add_parser('weights', help='download and verify weights into weights/')
    weights.add_argument('names', nargs='+', metavar='weights', help=', '.join(WEIGHTS))
    return cli.run(parser, _data, argv)


def _data(args):
    if args.command == 'list':
        for title, prefix, table in (('datasets', 'data', DATASETS), ('weights', 'weights', WEIGHTS)):
            print('%s:' % title)
            for name, sources in table.items():
                print('  make %s-%s' % (prefix, name))
                for source in sources if isinstance(sources, tuple) else (sources,):
                    print(describe(source))
        return
    fetch_one = fetch_dataset if args.command == 'fetch' else fetch_weights
    for name in args.names:
        fetch_one(name)


if __name__ == '__main__':
    sys.exit(main())
