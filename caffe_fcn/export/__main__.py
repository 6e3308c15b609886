"""python -m caffe_fcn.export VARIANT --weights FILE --out DIR

Writes DIR/VARIANT.onnx and its weights DIR/VARIANT.onnx.data: the variant's deploy net
(nets/VARIANT/deploy.prototxt) with the trained weights, dynamic in height and width. Its inputs
are the deploy net's, already preprocessed (not folded in: the model's metadata states each
input's steps and mean); its outputs are the score blobs. Existing files are never replaced.
"""
import os
import sys

from caffe_fcn import cli
from caffe_fcn.nets.files import NetFiles


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.export', __doc__,
                        'python -m caffe_fcn.export voc-fcn8s --weights runs/voc-fcn8s/voc-fcn8s.caffemodel '
                        '--out runs/voc-fcn8s')
    cli.add_variant(parser)
    cli.add_weights(parser, required=True, help='the trained caffemodel or HDF5 snapshot of the variant')
    cli.add_out(parser, 'the folder for VARIANT.onnx and VARIANT.onnx.data', required=True)
    cli.add_allow_extra_layers(parser)
    return cli.run(parser, _export, argv)


def _export(args):
    from caffe_fcn.export.variant_model import export_variant
    print('wrote %s' % export_variant(NetFiles(args.variant), os.path.abspath(args.weights), os.path.abspath(args.out),
                                      args.allow_extra_layers))


if __name__ == '__main__':
    sys.exit(main())
