"""Throughput bound: the machine's sgemm rate, the FLOPs of each deploy net at 500x500 (counted
from its layer shapes, see bench/flops.py), the best forward time those allow, and Caffe's
measured forward as a multiple of that bound.

The sgemm rate is measured twice: with numpy (its wheel bundles its own OpenBLAS) and through
Caffe's own BLAS, as a 1x1 convolution without bias, which Caffe runs as one sgemm (no im2col).
The bound divides by the faster of the two: no forward beats the machine's best matrix product.
Each forward runs bare pycaffe on random weights and inputs, after one untimed warm-up forward.

Crop, which every FCN runs on its full-size score map, is also timed alone (21 x 564 x 564 -> 500 x 500,
forward and backward): the Caffe fork `make setup` once built took 349 / 359 ms for it, BVLC ~3 / ~5 ms.
"""
import os
import sys
import tempfile
import time

import numpy as np

from bench import common
from bench.flops import net_flops
from caffe_fcn import atomic
from bench.nets import bench_variant, fill_inputs, load_net, randomize, set_input_size, write_net
from caffe_fcn.backend import import_caffe
from caffe_fcn.nets.registry import VARIANTS

FULL = dict(size=500, sgemm_n=2048, conv_m=1024, conv_k=1024, conv_positions=4096, crop_from=564)
QUICK = dict(size=64, sgemm_n=256, conv_m=128, conv_k=128, conv_positions=256, crop_from=80)
QUICK_VARIANTS = ('voc-fcn32s', 'voc-fcn8s', 'voc-fcn-alexnet')
SGEMM_REPEATS = 5


def best_seconds(call, repeats):
    """Fastest of `repeats` timed calls, after one untimed warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_sgemm_gflops(n, repeats=SGEMM_REPEATS):
    """GFLOP/s of an n x n by n x n float32 product in numpy (2 n^3 FLOPs)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return 2 * n ** 3 / best_seconds(lambda: a @ b, repeats) / 1e9


def caffe_sgemm_gflops(folder, m, k, positions, repeats=SGEMM_REPEATS):
    """GFLOP/s of Caffe's sgemm: a 1x1 convolution of k channels to m over `positions` pixels is
    one (m x k) by (k x positions) product (2 m k positions FLOPs)."""
    caffe = import_caffe()
    n = caffe.NetSpec()
    n.data = caffe.layers.Input(shape=dict(dim=[1, k, 1, positions]))
    n.product = caffe.layers.Convolution(n.data, num_output=m, kernel_size=1, bias_term=False)
    path = atomic.write_text(os.path.join(folder, 'sgemm.prototxt'), str(n.to_proto()))
    net = load_net(path)
    randomize(net)
    fill_inputs(net)
    return 2 * m * k * positions / best_seconds(net.forward, repeats) / 1e9


def crop_seconds(folder, channels, big, small, repeats=SGEMM_REPEATS):
    """(forward, backward) seconds of a Crop of channels x big x big to small x small (offset 32)."""
    caffe = import_caffe()
    n = caffe.NetSpec()
    n.score = caffe.layers.Input(shape=dict(dim=[1, channels, big, big]))
    n.reference = caffe.layers.Input(shape=dict(dim=[1, channels, small, small]))
    n.crop = caffe.layers.Crop(n.score, n.reference, crop_param=dict(axis=2, offset=(big - small) // 2))
    proto = n.to_proto()
    proto.force_backward = True
    path = atomic.write_text(os.path.join(folder, 'crop.prototxt'), str(proto))
    net = load_net(path)
    fill_inputs(net)
    net.blobs['crop'].diff[...] = 1
    return best_seconds(net.forward, repeats), best_seconds(net.backward, repeats)


def deploy_forward(folder, name, quick, size, repeats):
    """(FLOPs, seconds of the fastest of `repeats` forwards) of variant `name`'s deploy net at size x size."""
    path = write_net(bench_variant(name, quick), 'deploy', os.path.join(folder, name + '.prototxt'))
    net = load_net(path)
    set_input_size(net, size, size)
    flops = net_flops(net)
    randomize(net)
    fill_inputs(net)
    return flops, best_seconds(net.forward, repeats)


def sgemm_rate(folder, sizes):
    """{numpy_sgemm_gflops, caffe_sgemm_gflops, best_gflops}: the machine's sgemm rate, both ways."""
    numpy_rate = numpy_sgemm_gflops(sizes['sgemm_n'])
    caffe_rate = caffe_sgemm_gflops(folder, sizes['conv_m'], sizes['conv_k'], sizes['conv_positions'])
    return {'numpy_sgemm_gflops': numpy_rate, 'caffe_sgemm_gflops': caffe_rate,
            'best_gflops': max(numpy_rate, caffe_rate)}


def measure(args, sizes):
    with tempfile.TemporaryDirectory(prefix='bench-throughput-') as folder:
        sgemm = sgemm_rate(folder, sizes)
        rate = sgemm['best_gflops']
        crop_forward, crop_backward = crop_seconds(folder, 21, sizes['crop_from'], sizes['size'])
        nets = {}
        for name in args.variants:
            flops, seconds = deploy_forward(folder, name, args.quick, sizes['size'], args.repeats)
            bound = flops / (rate * 1e9)
            nets[name] = {'gflop': flops / 1e9, 'bound_s': bound, 'caffe_forward_s': seconds,
                          'multiple_of_bound': seconds / bound}
    return {'sgemm': sgemm, 'deploy_nets': nets,
            'crop_21ch': {'from': sizes['crop_from'], 'to': sizes['size'],
                          'forward_ms': crop_forward * 1e3, 'backward_ms': crop_backward * 1e3}}


def notes(median):
    rate = median['sgemm']
    lines = ['sgemm: numpy %.1f GFLOP/s, Caffe (1x1 conv) %.1f GFLOP/s; the bound uses %.1f'
             % (rate['numpy_sgemm_gflops'], rate['caffe_sgemm_gflops'], rate['best_gflops']),
             crop_row(median['crop_21ch'])]
    for name, net in median['deploy_nets'].items():
        lines.append('%-22s %9.4g GFLOP  bound %8.4g s  Caffe forward %8.4g s  = %.2fx the bound'
                     % (name, net['gflop'], net['bound_s'], net['caffe_forward_s'], net['multiple_of_bound']))
    return lines


def crop_row(crop):
    return 'Crop 21x%(from)dx%(from)d -> %(to)dx%(to)d: forward %(forward_ms).2f ms, backward %(backward_ms).2f ms' % crop


def rows(median):
    """(figure, median, target) rows for the README table."""
    rate = median['sgemm']
    out = [('sgemm, numpy', '%.1f GFLOP/s' % rate['numpy_sgemm_gflops'], ''),
           ('sgemm, Caffe (1x1 convolution)', '%.1f GFLOP/s' % rate['caffe_sgemm_gflops'], ''),
           ('Crop forward / backward', crop_row(median['crop_21ch']), '')]
    for name, net in median['deploy_nets'].items():
        out.append(('%s forward (deploy, %.4g GFLOP)' % (name, net['gflop']),
                    '%.3g s = %.2fx the bound %.3g s' % (net['caffe_forward_s'], net['multiple_of_bound'],
                                                        net['bound_s']), ''))
    return out


def main(argv=None):
    parser = common.argument_parser('throughput', __doc__)
    common.add_variants(parser, len(VARIANTS), QUICK_VARIANTS)
    common.add_repeats(parser, 1)
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    if args.variants is None:
        args.variants = list(QUICK_VARIANTS if args.quick else VARIANTS)
    sizes = QUICK if args.quick else FULL
    settings = dict(sizes, variants=args.variants, repeats=args.repeats, sgemm_repeats=SGEMM_REPEATS,
                    weights='random (He normal)', quick=args.quick)
    return common.run_benchmark('throughput', args, argv, settings, lambda run: measure(args, sizes),
                                notes=notes)


if __name__ == '__main__':
    common.run_main(main, 'throughput')
