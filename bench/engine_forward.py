"""The forward child processes of bench/engines.py, one engine each, so that each peak resident set is
that engine's own (bench/peak_rss.py runs them and reports it): load the deploy net, then run
--forwards forwards of a random 1xCxSxS input.

  caffe        caffe.Net of the deploy prototxt with the caffemodel (read by caffe_fcn.backend.weights)
  onnxruntime  a session of the exported .onnx with the given settings (caffe_fcn.export.runtime)

    python -m bench.engine_forward caffe DEPLOY CAFFEMODEL [--size 500] [--forwards 3]
    python -m bench.engine_forward onnxruntime MODEL [--size 500] [--forwards 3] [--threads N] [--level L]
                                   [--no-arena] [--no-spinning]

It prints a report line: load_s, and forward_s (one per forward).
"""
import time

import numpy as np

from bench.common import timed
from bench.peak_rss import report_line
from caffe_fcn import cli
from caffe_fcn.export.engine import ENGINES


def caffe_forwards(deploy, weights, size, forwards):
    from bench.nets import fill_inputs, load_net, set_input_size
    from caffe_fcn.backend.weights import load_weights
    start = time.perf_counter()
    net = load_net(deploy)
    load_weights(net, weights)
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


def main(argv=None):
    parser = cli.parser('python -m bench.engine_forward', __doc__,
                        'python -m bench.engine_forward onnxruntime runs/voc-fcn8s/voc-fcn8s.onnx --threads 1')
    parser.add_argument('engine', choices=ENGINES)
    parser.add_argument('files', nargs='+', metavar='FILE', help='caffe: DEPLOY CAFFEMODEL; onnxruntime: MODEL')
    parser.add_argument('--size', type=int, default=500, help='input height and width (default 500)')
    parser.add_argument('--forwards', type=int, default=3, help='forwards to time (default 3)')
    parser.add_argument('--threads', type=int, help='onnxruntime intra-op threads (default: usable cores)')
    parser.add_argument('--level', default='ORT_ENABLE_ALL', help='onnxruntime graph optimisation level')
    parser.add_argument('--no-arena', action='store_true', help='onnxruntime without its CPU memory arena')
    parser.add_argument('--no-spinning', action='store_true', help='onnxruntime threads sleep when idle')
    args = parser.parse_args(argv)
    if len(args.files) != (2 if args.engine == 'caffe' else 1):
        parser.error('caffe takes DEPLOY CAFFEMODEL, onnxruntime takes MODEL')
    if args.engine == 'caffe':
        loaded, seconds = caffe_forwards(*args.files, args.size, args.forwards)
    else:
        settings = dict(threads=args.threads, level=args.level, arena=not args.no_arena, spinning=not args.no_spinning)
        loaded, seconds = onnx_forwards(args.files[0], args.size, args.forwards, settings)
    print(report_line({'load_s': loaded, 'forward_s': seconds}), flush=True)


if __name__ == '__main__':
    main()
