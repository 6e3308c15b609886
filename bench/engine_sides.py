"""The child processes of bench/engines.py, one engine each, so that each peak resident set is that
engine's own (bench/peak_rss.py runs them and reports it):

  forward caffe        caffe.Net of the deploy prototxt with the caffemodel (Caffe's own loader), then
                       --forwards forwards of a random 1xCxSxS input
  forward onnxruntime  a session of the exported .onnx with the given settings, the same forwards
  infer ENGINE         caffe_fcn.evaluate.infer.infer on the images, the net run by ENGINE

    python -m bench.engine_sides forward caffe --deploy P --weights W --size 500 --forwards 3
    python -m bench.engine_sides forward onnxruntime --model M --size 500 --forwards 3 [--threads N] [--level L]
                                 [--no-arena] [--no-spinning]
    python -m bench.engine_sides infer ENGINE --variant NAME --net-dir DIR --weights W --out DIR IMAGE...

Each prints a report line: forward: load_s and forward_s (one per forward); infer: written_at, the
wall-clock time at which each image's PNGs were written (as bench/infer_sides.py).
"""
import argparse
import time

import numpy as np

from bench.common import report_line


def caffe_forwards(deploy, weights, size, forwards):
    from bench.nets import fill_inputs, load_net, set_input_size
    start = time.perf_counter()
    net = load_net(deploy, weights)
    set_input_size(net, size, size)
    fill_inputs(net)
    loaded = time.perf_counter() - start
    return loaded, [timed(net.forward) for _ in range(forwards)]


def onnx_forwards(model, size, forwards, settings):
    from caffe_fcn.export.runtime import forward, session
    start = time.perf_counter()
    sess = session(model, **settings)
    rng = np.random.default_rng(0)
    inputs = {i.name: rng.standard_normal((1, i.shape[1], size, size), dtype=np.float32) for i in sess.get_inputs()}
    loaded = time.perf_counter() - start
    return loaded, [timed(lambda: forward(sess, inputs)) for _ in range(forwards)]


def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def infer_images(engine, variant, net_dir, weights, out_dir, images):
    from caffe_fcn.evaluate.infer import infer
    from caffe_fcn.nets.files import NetFiles
    from caffe_fcn.nets.registry import get_variant
    written_at = []
    nets = NetFiles(net_dir=net_dir, variant=get_variant(variant))
    infer(nets, weights, images, out_dir, say=lambda line: written_at.append(time.time()), engine=engine)
    return written_at


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.engine_sides', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=('forward', 'infer'))
    parser.add_argument('engine', choices=('caffe', 'onnxruntime'))
    parser.add_argument('images', nargs='*')
    parser.add_argument('--deploy', help='forward caffe: the deploy prototxt')
    parser.add_argument('--weights', help='forward caffe, infer: the caffemodel (infer onnxruntime: the .onnx)')
    parser.add_argument('--model', help='forward onnxruntime: the .onnx')
    parser.add_argument('--size', type=int, default=500)
    parser.add_argument('--forwards', type=int, default=3)
    parser.add_argument('--threads', type=int, help='onnxruntime intra-op threads (default: usable cores)')
    parser.add_argument('--level', default='ORT_ENABLE_ALL', help='onnxruntime graph optimisation level')
    parser.add_argument('--no-arena', action='store_true', help='onnxruntime without its CPU memory arena')
    parser.add_argument('--no-spinning', action='store_true', help='onnxruntime threads sleep when idle')
    parser.add_argument('--variant')
    parser.add_argument('--net-dir')
    parser.add_argument('--out')
    args = parser.parse_args(argv)
    if args.command == 'infer':
        print(report_line({'written_at': infer_images(args.engine, args.variant, args.net_dir, args.weights,
                                                      args.out, args.images)}), flush=True)
        return
    if args.engine == 'caffe':
        loaded, seconds = caffe_forwards(args.deploy, args.weights, args.size, args.forwards)
    else:
        settings = dict(threads=args.threads, level=args.level, arena=not args.no_arena, spinning=not args.no_spinning)
        loaded, seconds = onnx_forwards(args.model, args.size, args.forwards, settings)
    print(report_line({'load_s': loaded, 'forward_s': seconds}), flush=True)


if __name__ == '__main__':
    main()
