"""Our scores side by side with the published ones, with differences, as text or Markdown.

    python -m caffe_fcn.evaluate.compare runs/voc-fcn8s            # last round of the run
    python -m caffe_fcn.evaluate.compare runs/voc-fcn8s/metrics.jsonl --iteration 48000 --markdown
"""
import sys

from caffe_fcn import cli
from caffe_fcn.train import metrics_log
from caffe_fcn.train.metrics_log import MetricsLogError
from caffe_fcn.evaluate.published import METRICS, published_for, splits_published_for

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
    if not variant or not split:
        raise MetricsLogError('the record names no variant or split: pass --variant and --split')
    tables = []
    for output, scores in record['scores'].items():
        missing = [m for m in METRICS if m not in scores]
        if missing:
            raise MetricsLogError('the %s scores lack %s' % (output, ', '.join(missing)))
        published = published_for(variant, split, output)
        title = '%s on %s (%s)' % (variant, split, output)
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
            elsewhere = splits_published_for(variant)
            note = 'no published number for %s (%s) on %s' % (variant, output, split) + (
                '; published splits: %s' % ', '.join(elsewhere) if elsewhere else '')
        tables.append((title, header, rows, note))
    return tables


def as_text(title, header, rows, note):
    widths = [max(len(line[i]) for line in [header] + rows) for i in range(len(header))]
    lines = [title]
    for line in [header] + rows:
        lines.append('  '.join(cell.ljust(w) if i == 0 else cell.rjust(w)
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


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.compare', __doc__,
                        'python -m caffe_fcn.evaluate.compare runs/voc-fcn8s --markdown')
    cli.add_run(parser)
    parser.add_argument('--iteration', type=int, help='compare this round (default: the latest)')
    cli.add_variant(parser, option=True, help="compare as this variant instead of the log's")
    cli.add_split(parser, "compare as this split instead of the log's")
    parser.add_argument('--markdown', action='store_true', help='print Markdown tables')
    return cli.run(parser, _compare, argv)


def _compare(args):
    path = metrics_log.log_path(args.log)
    record = pick_record(metrics_log.read(path), args.iteration, path)
    tables = comparison_tables(record, args.variant.name if args.variant else None, args.split)
    render = as_markdown if args.markdown else as_text
    print('\n\n'.join(render(*table) for table in tables))


if __name__ == '__main__':
    sys.exit(main())
