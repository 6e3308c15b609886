"""Scoring a test net over its whole split: one confusion matrix and one mean loss per output head.

    python -m caffe_fcn.evaluate.score VARIANT --weights FILE [--split NAME] [--gpu ID] [--out DIR [--save-predictions]]

With --out, the scores are appended to <DIR>/metrics.jsonl as a 'score' record (what
python -m caffe_fcn.evaluate.compare reads) and --save-predictions writes <DIR>/predictions/.

The score, label and loss blobs come from the variant's outputs (SIFT Flow scores its semantic
and geometric heads, each with its own loss). The split's size and the image ids come from the
net's data layer, which reads the split in file order.
"""
import os
import sys
import time

import numpy as np

from caffe_fcn import atomic, cli
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.train import metrics_log
from caffe_fcn.data.base import SegDataLayer
from caffe_fcn.data.labels import save_label_png
from caffe_fcn.evaluate.metrics import ScoreError, fast_hist, segmentation_metrics
from caffe_fcn.progress import Progress


def split_layer(net):
    """The data layer of a test net: it knows the split's ids and which one is in the blobs."""
    for layer in net.layers:
        if isinstance(layer, SegDataLayer):
            return layer
    raise ScoreError('the test net has no caffe_fcn data layer, so its split is unknown')


def check_outputs(net, outputs):
    for o in outputs:
        for role, blob in (('score', o.score), ('label', o.label), ('loss', o.loss)):
            if blob not in net.blobs:
                raise ScoreError('the test net has no %s blob %r for output %r (its blobs: %s)'
                                 % (role, blob, o.name, ', '.join(net.blobs)))
        channels = net.blobs[o.score].data.shape[1]
        if channels != o.classes:
            raise ScoreError('score blob %r has %d channels but output %r has %d classes'
                             % (o.score, channels, o.name, o.classes))


def prediction_paths(save_dir, outputs, ids):
    """{output name: {id: PNG path}}: <dir>/<id>.png, or <dir>/<output>/<id>.png with several heads."""
    paths = {}
    for o in outputs:
        folder = save_dir if len(outputs) == 1 else os.path.join(save_dir, o.name)
        paths[o.name] = {i: os.path.join(folder, i + '.png') for i in ids}
    return paths


def score(net, outputs, save_dir=None, say=None, every=10.0):
    """Forward every image of the split once; {output name: metrics + mean 'loss' + 'images' + 'seconds'}.

    With `save_dir`, each prediction is also written as a palette PNG (the folder may exist; a file
    already there is an error before any forward, never overwritten). With `say`, a progress line
    (images scored, rate, ETA) every `every` seconds (caffe_fcn.progress)."""
    layer = split_layer(net)
    if layer.random:
        raise ScoreError('split %r is sampled at random (its name contains "train"); score a split that is '
                         'read in file order' % layer.params['split'])
    ids = list(layer.ids)
    paths = prediction_paths(save_dir, outputs, ids) if save_dir else None
    if paths:
        taken = [p for ps in paths.values() for p in ps.values() if os.path.exists(p)]
        if taken:
            raise ScoreError('%d prediction file(s) already exist, first: %s; not overwriting them: '
                             'choose another folder or move them away' % (len(taken), taken[0]))
        for ps in paths.values():
            os.makedirs(os.path.dirname(next(iter(ps.values()))), exist_ok=True)
    progress = Progress('scored', len(ids), say, unit='images', every=every) if say else None
    hists = {o.name: np.zeros((o.classes, o.classes), dtype=np.int64) for o in outputs}
    losses = dict.fromkeys(hists, 0.0)
    start = time.time()
    for index in range(len(ids)):
        net.forward()
        if index == 0:
            check_outputs(net, outputs)
        for o in outputs:
            prediction = net.blobs[o.score].data[0].argmax(axis=0)
            hists[o.name] += fast_hist(net.blobs[o.label].data[0, 0], prediction, o.classes)
            losses[o.name] += float(net.blobs[o.loss].data)
            if paths:
                save_label_png(paths[o.name][layer.current_id], prediction.astype(np.uint8))
        if progress:
            progress.update(index + 1)
    seconds = time.time() - start
    scores = {}
    for name, hist in hists.items():
        scores[name] = dict(segmentation_metrics(hist), loss=losses[name] / len(ids),
                            images=len(ids), seconds=round(seconds, 3))
    return scores


def check_out_writable(out):
    """Refuse, before any scoring, an --out folder that could not be written, or one whose
    metrics.jsonl is not a metrics log."""
    atomic.check_folder(out, '--out')
    log = os.path.join(out, metrics_log.LOG_NAME)
    if os.path.exists(log):
        metrics_log.read(log)


def summary(scores):
    """Readable lines per head: the four metrics and the loss, IU per class present in the ground
    truth, and the classes absent from it."""
    lines = []
    for name, s in scores.items():
        lines.append('%s: pixel accuracy %.4f  mean accuracy %.4f  mean IU %.4f  f.w. IU %.4f  loss %.6g  '
                     '(%d images)' % (name, s['pixel_accuracy'], s['mean_accuracy'], s['mean_iu'],
                                      s['frequency_weighted_iu'], s['loss'], s['images']))
        lines.append('  IU per class: ' + ', '.join(
            '%d %.3f' % (c, iu) for c, iu in enumerate(s['per_class_iu']) if iu is not None))
        if s['absent_classes']:
            lines.append('  absent from the ground truth, left out of the means: '
                         + ' '.join(str(c) for c in s['absent_classes']))
    return '\n'.join(lines)


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.score', __doc__,
                        'python -m caffe_fcn.evaluate.score voc-fcn8s --weights weights/fcn8s-heavy-pascal.caffemodel '
                        '--out runs/fcn8s-heavy-pascal')
    cli.add_variant(parser)
    cli.add_weights(parser, required=True, help='the caffemodel to score')
    cli.add_split(parser, "the split to score (default: the variant's test split)")
    cli.add_gpu(parser)
    cli.add_out(parser, "append the scores to <DIR>/metrics.jsonl ('score' record)")
    cli.add_save_predictions(parser)
    cli.add_allow_extra_layers(parser)
    return cli.run(parser, _score, argv)


def _score(args):
    if args.save_predictions and not args.out:
        raise ScoreError('--save-predictions writes into <DIR>/predictions/: give --out DIR')
    out = os.path.abspath(args.out) if args.out else None
    if out:
        check_out_writable(out)
    nets = NetFiles(args.variant)
    net, split = nets.test_net(args.weights, args.split, gpu=args.gpu, extra_layers=args.allow_extra_layers)
    scores = score(net, nets.variant.outputs, os.path.join(out, 'predictions') if args.save_predictions else None,
                   say=lambda line: print(line, file=sys.stderr))
    print('%s on %s, weights %s' % (nets.variant.name, split, args.weights))
    print(summary(scores))
    if out:
        os.makedirs(out, exist_ok=True)
        log = os.path.join(out, metrics_log.LOG_NAME)
        metrics_log.append(log, {'event': 'score', 'variant': nets.variant.name, 'split': split,
                                 'weights': os.path.abspath(args.weights), 'scores': scores})
        print('appended to %s' % log)


if __name__ == '__main__':
    sys.exit(main())
