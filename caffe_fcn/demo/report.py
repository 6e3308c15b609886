"""The demo's report: its scores per stage beside the trivial baseline, the paper's VOC numbers
(a different dataset, labelled so), the claims the demo is meant to show, timings and where
every output is. Rebuilt from the runs' metrics logs each time (runs/demo/report.md)."""
import json
import os
import platform

from caffe_fcn import atomic
from caffe_fcn.train import metrics_log
from caffe_fcn.evaluate.compare import METRIC_LABELS, as_markdown, as_text
from caffe_fcn.data.readers import read_split
from caffe_fcn.demo import dataset, pipeline
from caffe_fcn.machine import cpu_model
from caffe_fcn.evaluate.published import METRICS, published_for
from caffe_fcn.paths import ROOT, resolve

STAGES = (('demo-fcn32s', 'FCN-32s', 'voc-fcn32s'), ('demo-fcn16s', 'FCN-16s', 'voc-fcn16s'),
          ('demo-fcn8s', 'FCN-8s', 'voc-fcn8s'))
ABLATION_LABEL = 'FCN-32s from random init (ablation)'
PAPER_SPLIT, PAPER_SOURCE = 'seg11valid', 'CVPR Table 2'
WIDE_MARGIN = 2.0  # "a wide margin": at least twice the baseline's mean IU


def last_round(run_dir):
    """(iteration, semantic scores) of the latest scored round of a run, or None without one."""
    path = metrics_log.log_path(run_dir)
    if not os.path.isfile(path):
        return None
    history = metrics_log.rounds(metrics_log.read(path))
    return (history[-1]['iteration'], history[-1]['scores']['semantic']) if history else None


def collect(out_dir):
    """{label: (iterations or None, scores)} in report order: baseline, stages, ablation."""
    where = pipeline.paths(out_dir)
    results = {}
    if os.path.isfile(where['baseline']):
        with open(where['baseline']) as f:
            results['all background (trivial)'] = (None, json.load(f))
    for name, label, _ in STAGES + ((pipeline.ABLATION, ABLATION_LABEL, None),):
        found = last_round(os.path.join(out_dir, name))
        if found:
            results[label] = found
    return results


def shown(path):
    """`path` relative to the repository root when it lies inside it, else absolute."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def percent(value):
    return '%.1f' % (100 * value)


def results_table(results, val_images):
    header = ['model', 'iterations of its stage'] + [METRIC_LABELS[m] for m in METRICS]
    rows = [[label, '-' if it is None else str(it)] + [percent(s[m]) for m in METRICS]
            for label, (it, s) in results.items()]
    return ('Demo results on the demo val split (%d images of the toy dataset), percent' % val_images,
            header, rows, None)


def paper_table():
    header = ['model', 'source'] + [METRIC_LABELS[m] for m in METRICS]
    rows = []
    for _, label, variant in STAGES:
        for row in published_for(variant, PAPER_SPLIT):
            if row.source == PAPER_SOURCE:
                rows.append([label, row.source] + ['-' if getattr(row, m) is None else '%.1f' % getattr(row, m)
                                                   for m in METRICS])
    return ('The paper on PASCAL VOC 2011 %s (full VGG16, 21 classes): a DIFFERENT dataset, shown for the '
            'shape of the comparison, not its level' % PAPER_SPLIT, header, rows, None)


def claims(results):
    """[(statement, holds: bool or None when a run is missing)]."""
    iu = {label: s['mean_iu'] for label, (_, s) in results.items()}
    base = iu.get('all background (trivial)')
    checks = []
    if 'FCN-8s' in iu and 'FCN-32s' in iu:
        checks.append(('FCN-8s beats FCN-32s in mean IU (%s vs %s)' % (percent(iu['FCN-8s']), percent(iu['FCN-32s'])),
                       iu['FCN-8s'] > iu['FCN-32s']))
    if base is not None:
        for _, label, _ in STAGES:
            if label in iu:
                checks.append(('%s mean IU is at least %.0fx the all-background baseline\'s (%s vs %s)'
                               % (label, WIDE_MARGIN, percent(iu[label]), percent(base)),
                               iu[label] >= WIDE_MARGIN * base))
    if 'FCN-32s' in iu:
        if ABLATION_LABEL in iu:
            checks.append(('FCN-32s from the pre-trained classifier beats FCN-32s from random init after the '
                           'same iterations (%s vs %s)' % (percent(iu['FCN-32s']), percent(iu[ABLATION_LABEL])),
                           iu['FCN-32s'] > iu[ABLATION_LABEL]))
        else:
            checks.append(('transfer ablation not run yet: make demo-ablation', None))
    return checks


def machine():
    model = cpu_model()
    return '%s, %d CPU core(s) available%s' % (platform.machine(), len(os.sched_getaffinity(0)),
                                                 ', ' + model if model else '')


def outputs(out_dir, data_dir):
    where = pipeline.paths(out_dir)
    lines = [('dataset (VOC layout)', resolve(data_dir)),
             ('classifier (ILSVRC stand-in)', where['ilsvrc']),
             ('convolutionalized classifier', where['pretrained'])]
    for name, label, _ in STAGES + ((pipeline.ABLATION, ABLATION_LABEL, None),):
        run_dir = os.path.join(out_dir, name)
        if os.path.isdir(run_dir):
            lines += [('%s run (metrics.jsonl, snapshots)' % label, run_dir),
                      ('%s loss / mean IU plot' % label, os.path.join(run_dir, 'metrics.png'))]
    lines += [('loss / mean IU over FCN-32s -> 16s -> 8s', where['chain_plot']),
              ('FCN-8s overlays on val images', where['overlays']), ('timings', where['timings'])]
    return [(what, path) for what, path in lines if os.path.exists(path)]


def write(out_dir, data_dir, command, seconds):
    """Write <out>/report.md and return the same report as text."""
    out_dir = resolve(out_dir)
    where = pipeline.paths(out_dir)
    results = collect(out_dir)
    val_images = len(read_split(os.path.join(resolve(data_dir), 'ImageSets', 'Segmentation', 'val.txt')))
    tables = [results_table(results, val_images), paper_table()]
    with open(where['summary']) as f:
        classifier = json.load(f)
    with open(where['timings']) as f:
        timings = json.load(f)
    checks = claims(results)
    verdict = {True: 'yes', False: 'NO', None: '-'}
    claim_lines = ['%s: %s' % (verdict[holds], statement) for statement, holds in checks]
    timing_lines = ['%6.0f s  %s' % (s, step) for step, s in timings.items()]
    summary = ('classifier pre-training: %d iterations, val crop accuracy %s%% (%d crops, chance %s%%)'
               % (classifier['iterations'], percent(classifier['val_accuracy']), classifier['val_crops'],
                  percent(1.0 / len(dataset.CLASSES))))
    total = 'this command (%s) took %.0f s (%.1f min) on %s' % (command, seconds, seconds / 60, machine())
    out_lines = ['%s: %s' % (what, shown(path)) for what, path in outputs(out_dir, data_dir)]

    text = '\n\n'.join([as_text(*t) for t in tables] + [summary, 'Claims:\n' + '\n'.join(claim_lines),
                        'Timings (each step when it last ran):\n' + '\n'.join(timing_lines), total,
                        'Outputs:\n' + '\n'.join(out_lines)])
    markdown = '\n\n'.join(['# caffe-fcn demo report'] + [as_markdown(*t) for t in tables] + [
        summary, '## Claims\n\n' + '\n'.join('- ' + line for line in claim_lines),
        '## Timings\n\n```\n' + '\n'.join(timing_lines) + '\n```', total,
        '## Outputs\n\n' + '\n'.join('- ' + line for line in out_lines)]) + '\n'
    report_path = os.path.join(out_dir, 'report.md')
    atomic.write_text(report_path, markdown, replace=True)  # make demo-ablation updates it
    return text + '\nreport: %s' % shown(report_path)
