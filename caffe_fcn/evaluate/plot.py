"""Loss and mean IU per round of a run, as a PNG drawn from its metrics log.

    python -m caffe_fcn.evaluate.plot RUN [--out DIR]     # writes <DIR>/metrics.png (default DIR: the run's folder)

An existing metrics.png is never replaced.
"""
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from caffe_fcn import atomic, cli  # noqa: E402
from caffe_fcn.errors import OutputExists  # noqa: E402
from caffe_fcn.train import metrics_log  # noqa: E402
from caffe_fcn.train.metrics_log import MetricsLogError  # noqa: E402

PLOT_NAME = 'metrics.png'


def plot_rounds(history, out_path, title):
    """Two panels over iterations: train and test loss per output head, and test mean IU (%), written
    to `out_path` (never over an existing file) through a temporary name."""
    rounds = [r for r in history if r['event'] == 'round']
    if not rounds:
        raise MetricsLogError('no training round to plot yet')
    if os.path.exists(out_path):
        raise OutputExists('%s already exists; not replacing it: move it away or choose another --out' % out_path)
    iterations = [r['iteration'] for r in rounds]
    fig, (loss_ax, iu_ax) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    for output in rounds[-1]['scores']:
        loss_ax.plot(iterations, [r['train_loss'][output] for r in rounds], 'o-', label='train %s' % output)
        loss_ax.plot(iterations, [r['scores'][output]['loss'] for r in rounds], 's--', label='test %s' % output)
        iu_ax.plot(iterations, [100 * r['scores'][output]['mean_iu'] for r in rounds], 'o-', label=output)
    loss_ax.set_ylabel('loss per image')
    loss_ax.set_title(title)
    loss_ax.legend()
    iu_ax.set_ylabel('mean IU (%)')
    iu_ax.set_xlabel('iteration')
    iu_ax.legend()
    fig.tight_layout()
    with atomic.writing(out_path) as temp:
        fig.savefig(temp, format='png', dpi=100)
    plt.close(fig)
    return out_path


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.evaluate.plot', __doc__, 'python -m caffe_fcn.evaluate.plot runs/voc-fcn8s')
    cli.add_run(parser)
    cli.add_out(parser, 'where to write %s (default: the folder of the log)' % PLOT_NAME)
    return cli.run(parser, _plot, argv)


def _plot(args):
    path = metrics_log.log_path(args.log)
    out = os.path.join(args.out or os.path.dirname(os.path.abspath(path)), PLOT_NAME)
    atomic.check_file_output(out, '--out')
    history = metrics_log.rounds(metrics_log.read(path))
    title = '%s on %s' % (history[-1].get('variant'), history[-1].get('split')) if history else ''
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    print('wrote %s' % plot_rounds(history, out, title))


if __name__ == '__main__':
    sys.exit(main())
