"""The whole FCN pipeline in miniature, each step by the code the real variants use.

  data       caffe_fcn.demo.dataset: the toy dataset in VOC's on-disk layout
  ilsvrc     caffe_fcn.demo.pretrain: a narrow VGG16 classifier trained on crops of it
  surgery    caffe_fcn.surgery.convolutionalize: its fc6/fc7/fc8 become convolutions
  fcn32s ... caffe_fcn.train.solve.train on narrow twins of voc-fcn32s -> voc-fcn16s -> voc-fcn8s
             (caffe_fcn.nets builds them, the real VOC data layer reads the data, the driver
             scores every round), each stage started from the last by surgery
  baseline   all-background predictions, scored by caffe_fcn.evaluate.metrics
  overlays   caffe_fcn.evaluate.infer on a few val images; plots: caffe_fcn.evaluate.plot
The transfer ablation trains FCN-32s from the untrained classifier (the same surgery on its
starting weights) for the same iterations.
"""
import json
import os
import time
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from caffe_fcn import atomic
from caffe_fcn.train import metrics_log
from caffe_fcn.backend import select_device
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.data.readers import read_split
from caffe_fcn.demo import dataset
from caffe_fcn.demo.dataset import DemoError
from caffe_fcn.demo.pretrain import pretrain
from caffe_fcn.evaluate.infer import infer
from caffe_fcn.evaluate.metrics import fast_hist, segmentation_metrics
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import DataSpec, Init, get_variant
from caffe_fcn.paths import resolve
from caffe_fcn.evaluate.plot import plot_rounds
from caffe_fcn.train.solve import train
from caffe_fcn.surgery import convolutionalize
from caffe_fcn.backend.weights import net_with_weights, save_weights
from caffe_fcn.nets import ilsvrc

SOURCE_VARIANTS = {'32s': 'voc-fcn32s', '16s': 'voc-fcn16s', '8s': 'voc-fcn8s'}
PRETRAINED, RANDOM = 'demo-vgg16-fcn', 'demo-vgg16-fcn-random'
ABLATION = 'demo-fcn32s-random'
TIMINGS = 'timings.json'


def stage_name(head):
    return 'demo-fcn' + head


class Timer:
    """Wall-clock seconds per step, kept in <out>/timings.json."""

    def __init__(self, path):
        self.path = path
        self.seconds = {}
        if os.path.exists(path):
            with open(path) as f:
                self.seconds = json.load(f)

    @contextmanager
    def step(self, name, log):
        start = time.time()
        log('[%s] %s' % (time.strftime('%H:%M:%S'), name))
        yield
        self.seconds[name] = round(time.time() - start, 1)
        log('[%s] %s done in %.0f s' % (time.strftime('%H:%M:%S'), name, self.seconds[name]))
        atomic.write_json(self.path, self.seconds, replace=True)


def check_fresh(out_dir):
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise DemoError('%s already holds a demo run; nothing there is replaced: move it away '
                        '(e.g. mv %s %s.old) or choose another --out' % (out_dir, out_dir, out_dir))


def demo_variant(config, head, init, data_dir, mean, classes, name=None):
    """The narrow twin of the VOC variant with `head`, reading the demo dataset."""
    base = get_variant(SOURCE_VARIANTS[head])
    stage = next(s for s in config.stages if s.head == head)
    spec = lambda split: DataSpec('caffe_fcn.data.voc', 'VOCSegDataLayer',
                                  dict(voc_dir=data_dir, split=split, mean=list(mean), seed=config.seed))
    solver = dict(config.fcn_solver, iter_size=1, max_iter=stage.rounds * stage.steps,
                  test_iter=config.val_images, average_loss=20, display=0, random_seed=config.seed)
    return replace(base, name=name or stage_name(head),
                   outputs=(replace(base.outputs[0], classes=classes),),
                   data={'train': spec('train'), 'val': spec('val')}, solver=solver, init=init,
                   rounds=stage.rounds, steps=stage.steps, widths=config.widths, normalize_loss=True)


def surgery(classifier_weights, widths, classes, out, log):
    """The surgery `make vgg16-fcn` does: classifier weights -> its fully convolutional twin."""
    classifier = net_with_weights(ilsvrc.classifier('vgg16', widths=widths, classes=classes), classifier_weights)
    twin, report = convolutionalize('vgg16', classifier, widths=widths, classes=classes)
    log('  %s\n  -> %s' % (str(report).replace('\n', '\n  '), out))
    return save_weights(twin, out)


def background_baseline(data_dir, split, classes):
    """Scores of predicting background everywhere on `split`."""
    folder = resolve(data_dir)
    hist = np.zeros((classes, classes), np.int64)
    for name in read_split(os.path.join(folder, 'ImageSets', 'Segmentation', split + '.txt')):
        label = load_label_png(os.path.join(folder, 'SegmentationClass', name + '.png'))
        hist += fast_hist(label, np.zeros_like(label), classes)
    return segmentation_metrics(hist)


def train_stage(variant, out_dir, weights, log, gpu=None):
    nets = NetFiles.written(variant, os.path.join(out_dir, 'nets', variant.name))
    run_dir = os.path.join(out_dir, variant.name)
    final = train(variant, nets, out_dir=run_dir, weights=[weights], gpu=gpu,
                  say=lambda text: log('  ' + text.replace('\n', '\n  ')))
    plot = plot_rounds(metrics_log.rounds(metrics_log.read(metrics_log.log_path(run_dir))),
                       os.path.join(run_dir, 'metrics.png'), '%s on demo val' % variant.name)
    return nets, final, plot


def chain_plot(out_dir, names, path):
    """One loss / mean IU plot over the whole stage chain: each stage's rounds continue the
    iteration count of the stage it started from."""
    history, offset = [], 0
    for name in names:
        rounds = metrics_log.rounds(metrics_log.read(metrics_log.log_path(os.path.join(out_dir, name))))
        history += [dict(r, iteration=r['iteration'] + offset) for r in rounds if r['event'] == 'round']
        offset = history[-1]['iteration']
    return plot_rounds(history, path, 'demo: %s on demo val' % ' -> '.join(names))


def paths(out_dir):
    ilsvrc_dir = os.path.join(out_dir, 'ilsvrc')
    return {'ilsvrc': ilsvrc_dir,
            'pretrained': os.path.join(ilsvrc_dir, PRETRAINED + '.caffemodel'),
            'random': os.path.join(ilsvrc_dir, RANDOM + '.caffemodel'),
            'summary': os.path.join(ilsvrc_dir, 'classifier.json'),
            'baseline': os.path.join(out_dir, 'baseline.json'),
            'overlays': os.path.join(out_dir, 'overlays'),
            'chain_plot': os.path.join(out_dir, 'stages.png'),
            'timings': os.path.join(out_dir, TIMINGS)}


def run(config, data_dir, out_dir, log=print, gpu=None):
    """Every step of the demo into `out_dir` (which must be empty), on CUDA device `gpu` or the CPU;
    returns the Timer."""
    out_dir = resolve(out_dir)
    check_fresh(out_dir)
    atomic.check_folder(out_dir, '--out')
    atomic.check_folder(resolve(data_dir), '--data')
    select_device(gpu)
    os.makedirs(out_dir, exist_ok=True)
    where = paths(out_dir)
    timer = Timer(where['timings'])
    classes = len(dataset.CLASSES)
    with timer.step('data: %s' % data_dir, log):
        manifest = dataset.generate(resolve(data_dir), config.seed, config.train_images, config.val_images,
                                    config.min_side, config.max_side, log=lambda t: log('  ' + t))
    mean = manifest['mean_bgr']
    with timer.step('ilsvrc: classifier pre-training on crops', log):
        crop_params = dict(voc_dir=data_dir, mean=list(mean), classes=classes,
                           batch=config.pretrain_batch, seed=config.seed)
        start, trained, summary = pretrain(where['ilsvrc'], config.widths, classes, crop_params,
                                           dict(config.pretrain_solver, random_seed=config.seed),
                                           config.pretrain_iterations,
                                           config.pretrain_test_batches, config.seed,
                                           log=lambda t: log('  ' + t))
        atomic.write_json(where['summary'], summary)
    with timer.step('surgery: fc6/fc7/fc8 -> convolutions', log):
        surgery(trained, config.widths, classes, where['pretrained'], log)
        surgery(start, config.widths, classes, where['random'], log)
    weights, init = where['pretrained'], Init('ilsvrc', PRETRAINED)
    for stage in config.stages:
        variant = demo_variant(config, stage.head, init, data_dir, mean, classes)
        with timer.step('%s: %d x %d iterations' % (variant.name, stage.rounds, stage.steps), log):
            nets, weights, _ = train_stage(variant, out_dir, weights, log, gpu)
        init = Init('stage', variant.name)
    chain_plot(out_dir, [stage_name(stage.head) for stage in config.stages], where['chain_plot'])
    with timer.step('baseline: all background on val', log):
        atomic.write_json(where['baseline'], background_baseline(data_dir, 'val', classes))
    with timer.step('overlays: FCN-8s on %d val images' % config.overlays, log):
        folder = os.path.join(resolve(data_dir), 'JPEGImages')
        images = [os.path.join(folder, name + '.jpg') for name in dataset.image_ids('val', config.overlays)]
        infer(nets, weights, images, where['overlays'], gpu=gpu, say=lambda t: log('  ' + t))
    return timer


def run_ablation(config, data_dir, out_dir, log=print, gpu=None):
    """FCN-32s from the untrained classifier, for the same iterations as the demo's FCN-32s."""
    out_dir = resolve(out_dir)
    where = paths(out_dir)
    if not os.path.isfile(where['random']):
        raise DemoError('%s does not exist: run the demo first (make demo), whose surgery step writes it'
                        % where['random'])
    select_device(gpu)
    timer = Timer(where['timings'])
    mean = dataset.read_manifest(resolve(data_dir))['mean_bgr']
    variant = demo_variant(config, '32s', Init('ilsvrc', RANDOM), data_dir, mean, len(dataset.CLASSES),
                           name=ABLATION)
    with timer.step('%s: %d x %d iterations from random init' % (ABLATION, variant.rounds, variant.steps), log):
        train_stage(variant, out_dir, where['random'], log, gpu)
    return timer
