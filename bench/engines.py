"""Caffe against ONNX Runtime, every figure measured in the same run with the two engines interleaved
(other work on a shared machine slows both alike), on random weights (He normal):

  forward   every deploy net at 500x500: the fastest of --repeats forwards per engine after an untimed
            warm-up, Caffe and ONNX Runtime alternating; each as a multiple of the sgemm bound
            (bench/flops.py's FLOPs over the machine's best sgemm rate, as bench/throughput.py), ONNX
            Runtime's time over Caffe's; and full-size parity: the worst |ONNX Runtime - Caffe| over each
            score map's range, and the share of pixels whose argmax agrees
  memory    FCN-8s loaded and run forward (3 times at 500x500) in a process of its own per engine
            (bench/engine_forward.py): peak RSS;
            for ONNX Runtime both the first session of the exported file (which optimises it and saves the
            optimised copy, see caffe_fcn/export/runtime.py) and a later one (which loads that copy)
  settings  FCN-8s on ONNX Runtime, one process per setting and round (--repeats rounds through all of
            them, the fastest kept): intra-op threads (1 or every usable core), graph optimisation level
            (none, basic, extended, all), memory arena (on or off), idle threads spinning (ORT's default)
            or sleeping
  infer     caffe_fcn.evaluate.infer.infer of FCN-8s per engine (bench/infer_sides.py's `ours`; ONNX Runtime from
            the exported .onnx): cold, from process start to the PNGs of one 500x500 image; warm, per image
            over --images (the gaps after the first); peak RSS of each process
  score     caffe_fcn.evaluate.score.score of the FCN-8s val net over --score-images VOC-size (500x375)
            fixture images per engine: seconds per image, pixels predicted differently, mean IU difference

ONNX Runtime runs with caffe_fcn.export.runtime's settings (the sweep is what chose them).
"""
import gc
import os
import shutil
import sys
import tempfile
import time

import numpy as np
from PIL import Image

from bench import common
from bench.fixtures import VOC_IMAGE, fixture_variant
from bench.flops import net_flops
from bench.infer import last_written, read_through, write_images
from bench.nets import bench_variant, fill_inputs, load_net, randomize, set_input_size, write_net
from bench.throughput import FULL as THROUGHPUT_FULL, QUICK as THROUGHPUT_QUICK, QUICK_VARIANTS
from bench.throughput import sgemm_rate
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.evaluate.score import score
from caffe_fcn.export import engine
from caffe_fcn.export.convert import caffe_to_onnx
from caffe_fcn.export import runtime
from caffe_fcn.export.runtime import forward, session
from caffe_fcn.export.variant_model import variant_model, write_model
from caffe_fcn.nets.build import net_proto
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import VARIANTS

VARIANT = 'voc-fcn8s'
ENGINES = ('caffe', 'onnxruntime')
FULL = dict(size=500, images=4, score_images=3, score_size=VOC_IMAGE, forwards=3)
QUICK = dict(size=64, images=3, score_images=2, score_size=(75, 100), forwards=2)
#: (name, bench/engine_forward.py options) of the ONNX Runtime settings compared; 'chosen' is runtime.py's.
SETTINGS = (('chosen: all cores, ORT_ENABLE_ALL, arena', []),
            ('1 thread', ['--threads', '1']),
            ('ORT_DISABLE_ALL', ['--level', 'ORT_DISABLE_ALL']),
            ('ORT_ENABLE_BASIC', ['--level', 'ORT_ENABLE_BASIC']),
            ('ORT_ENABLE_EXTENDED', ['--level', 'ORT_ENABLE_EXTENDED']),
            ('no memory arena', ['--no-arena']),
            ('threads sleep when idle', ['--no-spinning']))
TARGET_BOUND = 1.1  # ONNX Runtime's FCN-8s forward, as a multiple of the sgemm bound
TARGET_SPEEDUP = 1.8  # Caffe's time over ONNX Runtime's
TARGET_PEAK_MIB = 1536
TARGET_PARITY = 1e-5  # worst |ONNX Runtime - Caffe| / score range, as tests/test_export_parity.py


def ordered(run):
    """The engines in the order run `run` measures them: alternating from run to run."""
    return ENGINES if run % 2 == 0 else ENGINES[::-1]


def parity(ours, reference):
    return {'worst_over_range': float(np.abs(ours - reference).max() / np.ptp(reference)),
            'argmax_agreement': float((ours.argmax(axis=1) == reference.argmax(axis=1)).mean())}


def deploy_forward(folder, name, args, size, rate, run):
    """One deploy net on both engines: FLOPs, best forward seconds each, bound multiples, parity."""
    variant = bench_variant(name, args.quick)
    net = load_net(write_net(variant, 'deploy', os.path.join(folder, '%s-%d.prototxt' % (name, run))))
    set_input_size(net, size, size)
    flops = net_flops(net)
    randomize(net)
    fill_inputs(net)
    inputs = {i.name: net.blobs[i.name].data.copy() for i in variant.inputs}
    sess = session(caffe_to_onnx(net_proto(variant, 'deploy'), net, name))
    sides = {'caffe': net.forward, 'onnxruntime': lambda: forward(sess, inputs)}
    best = {}
    for side in ordered(run):
        sides[side]()  # warm-up: allocation, and ONNX Runtime's first-run planning
    for _ in range(args.repeats):
        for side in ordered(run):
            best[side] = min(best.get(side, float('inf')), common.timed(sides[side]))
    got = forward(sess, inputs)
    checks = {blob: parity(got[blob], net.blobs[blob].data) for blob in net.outputs}
    bound = flops / (rate * 1e9)
    del net, sess
    gc.collect()
    return {'gflop': flops / 1e9, 'bound_s': bound, 'caffe_s': best['caffe'], 'onnxruntime_s': best['onnxruntime'],
            'caffe_over_bound': best['caffe'] / bound, 'onnxruntime_over_bound': best['onnxruntime'] / bound,
            'onnxruntime_over_caffe': best['onnxruntime'] / best['caffe'],
            'worst_over_range': max(c['worst_over_range'] for c in checks.values()),
            'argmax_agreement': min(c['argmax_agreement'] for c in checks.values())}


def prepare(folder, quick):
    """FCN-8s (its narrow twin when quick) files: NetFiles, a random caffemodel, the exported .onnx."""
    nets = NetFiles.written(bench_variant(VARIANT, quick), os.path.join(folder, VARIANT))
    net = load_net(nets.proto('deploy'))
    randomize(net)
    weights = save_weights(net, os.path.join(folder, 'random.caffemodel'))
    del net
    model = write_model(variant_model(nets, weights), os.path.join(folder, VARIANT + '.onnx'))
    gc.collect()
    return nets, weights, model


def child_forward(side, files, sizes, options=()):
    """(best forward seconds, load seconds, peak RSS MiB) of one bench/engine_forward.py process."""
    nets, weights, model = files
    where = [nets.proto('deploy'), weights] if side == 'caffe' else [model]
    child = common.run_module('bench.engine_forward', side, *where, '--size', sizes['size'],
                              '--forwards', sizes['forwards'], *options)
    return {'forward_s': min(child.report['forward_s']), 'load_s': child.report['load_s'],
            'peak_rss_mib': child.peak_rss_mib}


def child_infer(side, files, folder, images, tag):
    """(seconds from spawn to the last PNG, gaps between images' PNGs, peak RSS MiB) of one infer process
    (bench/infer_sides.py's `ours`, on engine `side`)."""
    nets, weights, model = files
    out = os.path.join(folder, 'infer-%s-%s' % (side, tag))
    start = time.time()
    child = common.run_module('bench.infer_sides', 'ours', *images, '--variant', VARIANT, '--net-dir', nets.net_dir,
                              '--weights', weights if side == 'caffe' else model, '--out', out, '--engine', side)
    return last_written(out) - start, np.diff(child.report['written_at']), child.peak_rss_mib


def score_engines(folder, files, sizes, quick, run):
    """Seconds per image of score() over the fixture images per engine, and how far the two engines'
    predictions and metrics differ (a pixel whose two best classes score within float rounding of each
    other may take either class)."""
    _, weights, model = files
    where = os.path.join(folder, 'score-%d' % run)
    variant = fixture_variant(VARIANT, where, train_images=1, val_images=sizes['score_images'],
                              size=sizes['score_size'], quick=quick)
    nets = NetFiles.written(variant, os.path.join(where, VARIANT))
    figures, mean_iu, predictions = {}, {}, {}
    for side in ordered(run):
        net, _ = engine.test_net(nets, weights if side == 'caffe' else model, engine=side)
        net.forward()  # warm-up: the first forward allocates every blob
        start = time.perf_counter()
        scores = score(net, variant.outputs, save_dir=os.path.join(where, side))
        figures[side + '_per_image_s'] = (time.perf_counter() - start) / sizes['score_images']
        mean_iu[side] = scores['semantic']['mean_iu']
        predictions[side] = [np.array(Image.open(os.path.join(where, side, name)))
                             for name in sorted(os.listdir(os.path.join(where, side)))]
        del net
        gc.collect()
    figures['pixels'] = sum(p.size for p in predictions['caffe'])
    figures['pixels_predicted_differently'] = int(sum((a != b).sum() for a, b in zip(*predictions.values())))
    figures['mean_iu_difference'] = abs(mean_iu['caffe'] - mean_iu['onnxruntime'])
    return figures


def sweep(files, sizes, rounds):
    """{setting: the fastest forward, its load time and peak RSS over `rounds` rounds}, each round going
    through every setting once, so that load that changes over minutes touches every setting alike."""
    best = {}
    for _ in range(rounds):
        for name, options in SETTINGS:
            figures = child_forward('onnxruntime', files, sizes, options)
            if name not in best or figures['forward_s'] < best[name]['forward_s']:
                best[name] = figures
    return best


def measure(run, args, sizes, folder, files, images):
    figures = {'sgemm': sgemm_rate(folder, THROUGHPUT_QUICK if args.quick else THROUGHPUT_FULL)}
    rate = figures['sgemm']['best_gflops']
    figures['forward'] = {name: deploy_forward(folder, name, args, sizes['size'], rate, run) for name in args.variants}
    shutil.rmtree(runtime.cache_root(), ignore_errors=True)  # the bench's own cache (main): a first session again
    memory = {'onnxruntime_first_session': child_forward('onnxruntime', files, sizes)}
    memory.update({side: child_forward(side, files, sizes) for side in ordered(run)})
    figures['memory'] = memory
    figures['settings'] = sweep(files, sizes, args.repeats)
    infer = {}
    for side in ordered(run):
        cold, _, cold_rss = child_infer(side, files, folder, images[:1], 'cold-%d' % run)
        _, gaps, warm_rss = child_infer(side, files, folder, images, 'warm-%d' % run)
        infer[side] = {'cold_s': cold, 'warm_per_image_s': float(np.median(gaps)),
                       'cold_peak_rss_mib': cold_rss, 'warm_peak_rss_mib': warm_rss}
    figures['infer'] = infer
    figures['score'] = score_engines(folder, files, sizes, args.quick, run)
    figures['load_average_1m_at_end'] = round(os.getloadavg()[0], 2)
    return figures


def targets(median):
    fcn8s = median['forward'].get(VARIANT)
    return [common.Target('ONNX Runtime %s forward / sgemm bound' % VARIANT,
                          fcn8s and fcn8s['onnxruntime_over_bound'], TARGET_BOUND, 'x'),
            common.Target('ONNX Runtime / Caffe forward time, %s (1/%.1f)' % (VARIANT, TARGET_SPEEDUP),
                          fcn8s and fcn8s['onnxruntime_over_caffe'], round(1 / TARGET_SPEEDUP, 3), 'x'),
            common.Target('ONNX Runtime peak RSS, %s forward' % VARIANT,
                          median['memory']['onnxruntime']['peak_rss_mib'], TARGET_PEAK_MIB, ' MiB'),
            common.Target('worst |ONNX Runtime - Caffe| / score range, every net',
                          max(n['worst_over_range'] for n in median['forward'].values()), TARGET_PARITY)]


def notes(median):
    lines = ['sgemm bound rate %.1f GFLOP/s (numpy %.1f, Caffe %.1f); load average at the end %.2f' % (
        median['sgemm']['best_gflops'], median['sgemm']['numpy_sgemm_gflops'], median['sgemm']['caffe_sgemm_gflops'],
        median['load_average_1m_at_end'])]
    for name, n in median['forward'].items():
        lines.append('%-22s %6.1f GFLOP  bound %6.3f s  Caffe %6.3f s (%.2fx)  ONNX Runtime %6.3f s (%.2fx)  '
                     'ORT/Caffe %.2f  parity %.1e, argmax %.6f'
                     % (name, n['gflop'], n['bound_s'], n['caffe_s'], n['caffe_over_bound'], n['onnxruntime_s'],
                        n['onnxruntime_over_bound'], n['onnxruntime_over_caffe'], n['worst_over_range'],
                        n['argmax_agreement']))
    for name, s in median['settings'].items():
        lines.append('ONNX Runtime %-40s forward %.3f s, load %.2f s, peak RSS %.0f MiB'
                     % (name, s['forward_s'], s['load_s'], s['peak_rss_mib']))
    return lines


def rows(median):
    """(figure, median, target) rows for the README table."""
    out = []
    for name, n in median['forward'].items():
        out.append(('%s forward (%.4g GFLOP, bound %.3g s)' % (name, n['gflop'], n['bound_s']),
                    'Caffe %.3g s (%.2fx), ONNX Runtime %.3g s (%.2fx): %.2fx faster; parity %.1e' % (
                        n['caffe_s'], n['caffe_over_bound'], n['onnxruntime_s'], n['onnxruntime_over_bound'],
                        1 / n['onnxruntime_over_caffe'], n['worst_over_range']),
                    '' if name != VARIANT else 'ORT <= %gx bound, >= %gx faster' % (TARGET_BOUND, TARGET_SPEEDUP)))
    memory, infer = median['memory'], median['infer']
    out.append(('%s peak RSS, load + forwards' % VARIANT,
                'Caffe %.0f MiB, ONNX Runtime %.0f MiB (first session of the file, optimising it: %.0f MiB)' % (
                    memory['caffe']['peak_rss_mib'], memory['onnxruntime']['peak_rss_mib'],
                    memory['onnxruntime_first_session']['peak_rss_mib']),
                'ORT <= %d MiB' % TARGET_PEAK_MIB))
    out.append(('%s infer cold / warm per image' % VARIANT, 'Caffe %.3g / %.3g s, ONNX Runtime %.3g / %.3g s' % (
        infer['caffe']['cold_s'], infer['caffe']['warm_per_image_s'], infer['onnxruntime']['cold_s'],
        infer['onnxruntime']['warm_per_image_s']), ''))
    scored = median['score']
    out.append(('%s score per image' % VARIANT, 'Caffe %.3g s, ONNX Runtime %.3g s; %d of %d pixels predicted '
                'differently, mean IU differs by %.2g' % (
                    scored['caffe_per_image_s'], scored['onnxruntime_per_image_s'],
                    scored['pixels_predicted_differently'], scored['pixels'], scored['mean_iu_difference']), ''))
    return out


def main(argv=None):
    parser = common.argument_parser('engines', __doc__)
    common.add_variants(parser, len(VARIANTS), QUICK_VARIANTS)
    common.add_repeats(parser, 2)
    common.add_images(parser, FULL['images'])  # per warm infer process, at least 3
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    if args.variants is None:
        args.variants = list(QUICK_VARIANTS if args.quick else VARIANTS)
    sizes = dict(QUICK if args.quick else FULL)
    if args.images:
        if args.images < 3:
            parser.error('--images must be at least 3 (warm timing takes the gaps after the first image)')
        sizes['images'] = args.images
    settings = dict(sizes, variants=args.variants, repeats=args.repeats, weights='random (He normal)',
                    onnxruntime_settings=[name for name, _ in SETTINGS], quick=args.quick)
    with tempfile.TemporaryDirectory(prefix='bench-engines-') as folder:
        os.environ['CAFFE_FCN_CACHE'] = os.path.join(folder, 'cache')  # optimised copies: this run's own
        files = prepare(folder, args.quick)
        images = write_images(os.path.join(folder, 'images'), sizes['images'], sizes['size'])
        read_through([files[1], files[2]] + images)
        return common.run_benchmark('engines', args, argv, settings,
                                    lambda run: measure(run, args, sizes, folder, files, images),
                                    targets=targets, notes=notes)


if __name__ == '__main__':
    common.run_main(main, 'engines')
