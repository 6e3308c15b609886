"""The two sides of the inference benchmark, each run in a process of its own by bench/infer.py:

  bare  what a script without caffe_fcn does: load the deploy net and its weights with pycaffe,
        then per image read RGB with PIL, flip to BGR float32 minus the mean, HWC -> CHW, reshape
        the input, forward, argmax the score blob and write the labels as a greyscale PNG
  ours  caffe_fcn.evaluate.infer.infer on the same images (label PNG with palette + overlay PNG each)

    python -m bench.infer_sides bare --deploy P --weights W --mean B G R --score BLOB --out DIR IMAGE...
    python -m bench.infer_sides ours --variant NAME --net-dir DIR --weights W --out DIR IMAGE...

Each prints a report line: the wall-clock time (time.time()) at which each image's last
PNG was written, so the parent can take the time between consecutive images (warm per-image time).
"""
import os
import sys
import time

import numpy as np
from PIL import Image

from bench.peak_rss import report_line
from caffe_fcn import cli



def bare(deploy, weights, mean, score_blob, out_dir, images):
    from caffe_fcn.backend import select_device
    caffe = select_device()
    net = caffe.Net(deploy, caffe.TEST, weights=weights)
    mean = np.array(mean, dtype=np.float32)
    os.makedirs(out_dir, exist_ok=True)
    written_at = []
    for path in images:
        image = np.array(Image.open(path).convert('RGB'), dtype=np.float32)
        blob = (image[:, :, ::-1] - mean).transpose(2, 0, 1)
        net.blobs['data'].reshape(1, *blob.shape)
        net.blobs['data'].data[0] = blob
        net.forward()
        label = net.blobs[score_blob].data[0].argmax(axis=0).astype(np.uint8)
        name = os.path.splitext(os.path.basename(path))[0] + '.png'
        Image.fromarray(label).save(os.path.join(out_dir, name))
        written_at.append(time.time())
    return written_at


def ours(variant, net_dir, weights, out_dir, images):
    """caffe_fcn.evaluate.infer.infer with the nets of registry `variant` in `net_dir` (e.g. a narrow twin's)."""
    from caffe_fcn.evaluate.infer import infer
    from caffe_fcn.nets.files import NetFiles
    written_at = []
    infer(NetFiles(variant, net_dir), weights, images, out_dir, say=lambda line: written_at.append(time.time()))
    return written_at


def main(argv=None):
    parser = cli.parser('python -m bench.infer_sides', __doc__, 'python -m bench.infer_sides ours --variant voc-fcn8s '
                        '--net-dir nets/voc-fcn8s --weights W.caffemodel --out /tmp/out photo.jpg')
    parser.add_argument('side', choices=('bare', 'ours'))
    cli.add_images(parser)
    cli.add_weights(parser, required=True, help='the caffemodel')
    cli.add_out(parser, 'the folder for the PNGs', required=True)
    parser.add_argument('--deploy', help='bare: the deploy prototxt')
    parser.add_argument('--mean', type=float, nargs=3, help='bare: the BGR mean')
    parser.add_argument('--score', default='score', help='bare: the score blob (default score)')
    cli.add_variant(parser, option=True, help='ours: the variant')
    parser.add_argument('--net-dir', help="ours: the folder of the variant's nets")
    args = parser.parse_args(argv)
    if args.side == 'bare':
        if not args.deploy or not args.mean:
            parser.error('bare needs --deploy and --mean')
        written_at = bare(args.deploy, args.weights, args.mean, args.score, args.out, args.images)
    else:
        if not args.variant or not args.net_dir:
            parser.error('ours needs --variant and --net-dir')
        written_at = ours(args.variant, args.net_dir, args.weights, args.out, args.images)
    print(report_line({'written_at': written_at}))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
