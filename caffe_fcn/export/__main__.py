"""python -m caffe_fcn.export VARIANT --weights FILE --out DIR [--net DIR] [--force]

Writes DIR/VARIANT.onnx: the variant's deploy net (nets/VARIANT/deploy.prototxt, or the one in
--net) with the trained weights, dynamic in height and width. Its inputs are the deploy net's, already
preprocessed (not folded in; the model's metadata states each input's steps and mean); its outputs
are the score blobs. An existing file is replaced only with --force.
"""
import argparse
import os
import sys

from caffe_fcn.errors import UserError


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.export', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('variant', help='a registered variant (python -m caffe_fcn.nets --list)')
    parser.add_argument('--weights', required=True, help='trained caffemodel or HDF5 snapshot of the variant')
    parser.add_argument('--out', required=True, help='folder for <variant>.onnx (made if needed)')
    parser.add_argument('--net', help='net folder holding its deploy.prototxt (default nets/VARIANT)')
    parser.add_argument('--force', action='store_true', help='replace an existing <variant>.onnx')
    args = parser.parse_args(argv)
    try:
        from caffe_fcn.export.variant_model import export_variant
        from caffe_fcn.nets.files import NetFiles
        from caffe_fcn.nets.registry import get_variant
        nets = NetFiles(net_dir=args.net or os.path.join('nets', args.variant), variant=get_variant(args.variant))
        path = export_variant(nets, os.path.abspath(args.weights), args.out, args.force)
    except (UserError, ValueError, OSError) as err:
        print('export: %s' % err, file=sys.stderr)
        return 1
    print('wrote %s' % path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
