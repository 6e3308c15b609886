"""Our scores side by side with the published ones, with differences, as text or Markdown.

    python -m caffe_fcn.evaluate.compare runs/voc-fcn8s            # last round of the run
    python -m caffe_fcn.evaluate.compare runs/voc-fcn8s/metrics.jsonl --iteration 48000 --markdown
    python -m caffe_fcn.evaluate.compare --paper                   # CVPR Tables 1, 2 and Appendix A

A run is compared with the published numbers of its own training profile (its log records it:
the release's heavy recipe by default, the paper's with --recipe paper; caffe_fcn.train.recipes).
--paper lists every row of CVPR Tables 1 and 2 and Appendix A with the command that reproduces it
and, where that command's run (or upper-bound file) exists under runs/, our number beside it.
"""
import json
import os
import sys

from caffe_fcn import cli, paths
from caffe_fcn.train import metrics_log
from caffe_fcn.train.metrics_log import MetricsLogError
from caffe_fcn.evaluate.published import (APPENDIX_A, METRICS, RESULTS, profiles_published_for,
                                          published_for, splits_published_for)

METRIC_LABELS = {'pixel_accuracy': 'pixel accuracy', 'mean_accuracy': 'mean accuracy',
                 'mean_iu': 'mean IU', 'frequency_weighted_iu': 'f.w. IU'}


def pick_record(records, iteration=None, source='the log'):
    """The scored record at `iteration`, or the latest one."""
    history = metrics_log.rounds(records)
    if not history:
        raise MetricsLogError('%s holds no scored round yet' % source)
    if iteration is None:
        return history[-1]
    for record in history:
        if record.get('iteration') == iteration:
            return record
    raise MetricsLogError('%s has no round at iteration %d; it has %s' % (
        source, iteration, ', '.join(str(r.get('iteration')) for r in history)))


def comparison_tables(record, variant=None, split=None):
    """One (title, header, rows, note) per output head of a scored record; values in percent."""
    variant = variant or record.get('variant')
    split = split or record.get('split')
    profile = record.get('profile', 'heavy')  # logs written before profiles existed: the registry's
    if not variant or not split:
        raise MetricsLogError('the record names no variant or split: pass --variant and --split')
    tables = []
    for output, scores in record['scores'].items():
        missing = [m for m in METRICS if m not in scores]
        if missing:
            raise MetricsLogError('the %s scores lack %s' % (output, ', '.join(missing)))
        published = published_for(variant, split, output, profile)
        title = '%s on %s (%s)' % (variant, split, output)
        if profile != 'heavy':
            title += ', profile %s' % profile
        if record.get('iteration') is not None:
            title += ', iteration %d' % record['iteration']
        header = ['metric', 'ours']
        for row in published:
            header += ['%s (%s)' % (row.source, row.model), 'diff']
        rows = []
        for metric in METRICS:
            ours = round(100 * scores[metric], 1)  # differences of the numbers shown
            cells = [METRIC_LABELS[metric], '%.1f' % ours]
            for row in published:
                theirs = getattr(row, metric)
                cells += ['-', '-'] if theirs is None else ['%.1f' % theirs, '%+.1f' % (ours - theirs)]
            rows.append(cells)
        note = None
        if not published:
            others = profiles_published_for(variant, split, output)
            elsewhere = splits_published_for(variant, profile)
            note = 'no published number for %s (%s) on %s' % (variant, output, split) + (
                ' trained with profile %s; published for profile %s' % (profile, ', '.join(others)) if others else
                '; published splits: %s' % ', '.join(elsewhere) if elsewhere else '')
        tables.append((title, header, rows, note))
    return tables


def as_text(title, header, rows, note):
    widths = [max(len(line[i]) for line in [header] + rows) for i in range(len(header))]
    lines = [title]
    left = {0, len(header) - 1} if header[-1] == 'command' else {0}
    for line in [header] + rows:
        lines.append('  '.join(cell.ljust(w) if i in left else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
    if note:
        lines.append(note)
    return '\n'.join(lines)


def as_markdown(title, header, rows, note):
    lines = ['**%s**' % title, '', '| ' + ' | '.join(header) + ' |',
             '|' + '---|' + '---:|' * (len(header) - 1)]
    lines += ['| ' + ' | '.join(cells) + ' |' for cells in rows]
    if note:
        lines += ['', note]
    return '\n'.join(lines)


UPPER_BOUND_SPLIT = 'seg11valid'  # the VOC2011 val images outside SBD train: our "VOC2011 val subset"
UPPER_BOUND_DIR = os.path.join(paths.RUNS, 'upper-bound', UPPER_BOUND_SPLIT)
UPPER_BOUND_COMMAND = ('python -m caffe_fcn.evaluate.upper_bound --split %s --factors %s --out %s'
                       % (UPPER_BOUND_SPLIT, ','.join(map(str, APPENDIX_A)), UPPER_BOUND_DIR))


def _latest_scores(row):
    """Our latest scores for the run the row's command makes, or None when there is none yet."""
    if not row.variant:
        return None
    path = os.path.join(paths.default_run_dir(row.variant, row.profile), metrics_log.LOG_NAME)
    if not os.path.isfile(path):
        return None
    history = [r for r in metrics_log.rounds(metrics_log.read(path)) if r.get('split') == row.split]
    return history[-1]['scores'].get(row.output) if history else None


def _group(scores, metrics, value):
    """The metrics of one row as 'a / b / c / d' ('-' for each one missing)."""
    return ' / '.join('-' if scores is None or value(scores, m) is None else '%.1f' % value(scores, m)
                      for m in metrics)


def paper_tables():
    """CVPR Tables 1 and 2 and Appendix A, each row with ours (where run) and its command."""
    tables = []
    for source, metrics, title in (
            ('CVPR Table 1', ('mean_iu',), "CVPR Table 1: VOC2011 train -> VOC2011 val, the paper's recipe"),
            ('CVPR Table 2', METRICS, "CVPR Table 2: SBD train -> seg11valid, the paper's recipe")):
        labels = ' / '.join(METRIC_LABELS[m] for m in metrics)
        header = ['model', 'paper: ' + labels, 'ours', 'command']
        rows = [[row.model, _group(row, metrics, getattr),
                 _group(_latest_scores(row), metrics, lambda s, m: 100 * s[m]),
                 row.command or '(no such net in this project)']
                for row in RESULTS if row.source == source]
        tables.append((title, header, rows, 'ours: the latest round of the run folder each command trains into '
                                            '(runs/<profile>/<variant>/)'))
    bound = _read_bound()
    rows = [['%d' % f, '%.1f' % APPENDIX_A[f], '-' if f not in bound else '%.1f' % (100 * bound[f])]
            for f in APPENDIX_A]
    tables.append(('CVPR Appendix A: mean IU upper bound of a prediction at each stride (%s)' % UPPER_BOUND_SPLIT,
                   ['factor', 'paper mean IU', 'ours'], rows, 'command (ours from its file): %s' % UPPER_BOUND_COMMAND))
    return tables


def _read_bound():
    """{factor: mean IU} from the upper-bound file, or {} without one."""
    path = paths.resolve(os.path.join(paths.RUNS, 'upper-bound', UPPER_BOUND_SPLIT, paths.UPPER_BOUND_FILE))
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        semantic = json.load(f)['outputs']['semantic']
    return {int(f): m['mean_iu'] for f, m in semantic.items()}


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.compare', __doc__,
                        'python -m caffe_fcn.evaluate.compare runs/voc-fcn8s --markdown')
    cli.add_run(parser, optional=True)
    parser.add_argument('--paper', action='store_true',
                        help='CVPR Tables 1 and 2 and Appendix A: every row, its command and our number')
    parser.add_argument('--iteration', type=int, help='compare this round (default: the latest)')
    cli.add_variant(parser, option=True, help="compare as this variant instead of the log's")
    cli.add_split(parser, "compare as this split instead of the log's")
    parser.add_argument('--markdown', action='store_true', help='print Markdown tables')
    return cli.run(parser, lambda args: _compare(parser, args), argv)


def _compare(parser, args):
    if args.paper == bool(args.log):
        parser.error('give a run (RUN: a run folder or its metrics log), or --paper')
    if args.paper:
        tables = paper_tables()
    else:
        path = metrics_log.log_path(args.log)
        record = pick_record(metrics_log.read(path), args.iteration, path)
        tables = comparison_tables(record, args.variant.name if args.variant else None, args.split)
    render = as_markdown if args.markdown else as_text
    print('\n\n'.join(render(*table) for table in tables))


if __name__ == '__main__':
    sys.exit(main())
