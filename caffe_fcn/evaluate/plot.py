"""Loss and mean IU per round of a run, as a PNG drawn from its metrics log.

    python -m caffe_fcn.evaluate.plot runs/voc-fcn8s            # writes runs/voc-fcn8s/metrics.png
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from caffe_fcn import atomic  # noqa: E402
from caffe_fcn.train import metrics_log  # noqa: E402


def plot_rounds(history, out_path, title):
    """Two panels over iterations: train and test loss per output head, and test mean IU (%)."""
    rounds = [r for r in history if r['event'] == 'round']
    if not rounds:
        raise ValueError('no training round to plot yet')
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
    with atomic.writing(out_path, replace=True) as temp:
        fig.savefig(temp, format='png', dpi=100)
    plt.close(fig)
    return out_path


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.evaluate.plot', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('log', help='a run directory or its metrics log (metrics.jsonl)')
    parser.add_argument('--out', help='PNG to write (default: metrics.png beside the log)')
    args = parser.parse_args(argv)
    path = metrics_log.log_path(args.log)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(path)), 'metrics.png')
    try:
        atomic.check_file_output(out, '--out', replace=True)
        history = metrics_log.rounds(metrics_log.read(path))
        replaced = os.path.exists(out)
        title = '%s on %s' % (history[-1].get('variant'), history[-1].get('split')) if history else ''
        plot_rounds(history, out, title)
    except (OSError, ValueError) as err:
        sys.exit('plot: %s' % err)
    print('%s %s' % ('replaced' if replaced else 'wrote', out))


if __name__ == '__main__':
    main()
