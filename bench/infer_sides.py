"""The two sides of the inference benchmark, each run in a process of its own by bench/infer.py:

  bare  what a script without caffe_fcn does: load the deploy net and its weights with pycaffe,
        then per image read RGB with PIL, flip to BGR float32 minus the mean, HWC -> CHW, reshape
        the input, forward, argmax the score blob and write the labels as a greyscale PNG
  ours  caffe_fcn.evaluate.infer.infer on the same images (label PNG with palette + overlay PNG each)

    python -m bench.infer_sides bare --deploy P --weights W --mean B G R --score BLOB --out DIR IMAGE...
    python -m bench.infer_sides ours --net DIR --weights W --out DIR IMAGE...

Each prints a report line: the wall-clock time (time.time()) at which each image's last
PNG was written, so the parent can take the time between consecutive images (warm per-image time).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from PIL import Image

from bench.peak_rss import REPORT



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


def ours(net_dir, weights, out_dir, images):
    from caffe_fcn.evaluate.infer import infer
    from caffe_fcn.nets.files import NetFiles
    written_at = []
    infer(NetFiles(net_dir), weights, images, out_dir, say=lambda line: written_at.append(time.time()))
    return written_at


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.infer_sides', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('side', choices=('bare', 'ours'))
    parser.add_argument('images', nargs='+')
    parser.add_argument('--weights', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--deploy', help='bare: the deploy prototxt')
    parser.add_argument('--mean', type=float, nargs=3, help='bare: the BGR mean')
    parser.add_argument('--score', default='score', help='bare: the score blob (default score)')
    parser.add_argument('--net', help='ours: the net directory')
    args = parser.parse_args(argv)
    if args.side == 'bare':
        if not args.deploy or not args.mean:
            parser.error('bare needs --deploy and --mean')
        written_at = bare(args.deploy, args.weights, args.mean, args.score, args.out, args.images)
    else:
        if not args.net:
            parser.error('ours needs --net')
        written_at = ours(args.net, args.weights, args.out, args.images)
    print(REPORT + json.dumps({'written_at': written_at}))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
