"""Time of `make setup` with and without the Caffe build cache, read from the log it keeps:
.setup-logs/setup-times.jsonl, one JSON line per run (total_s, caffe_cache hit|miss, the seconds
of each step). Nothing is rerun here; figures are medians over the logged runs of each kind.

To log a run without the cache (a full Caffe build, minutes):
    CAFFE_FCN_CACHE=$(mktemp -d) make setup
"""
import json
import os
import statistics
import sys

from bench import common
from caffe_fcn.paths import ROOT

DEFAULT_LOG = os.path.join(ROOT, '.setup-logs', 'setup-times.jsonl')
CACHE_STATES = ('hit', 'miss')


def read_setup_log(path):
    """The logged runs of `make setup`, each {'total_s', 'caffe_cache', 'steps', ...}."""
    if not os.path.isfile(path):
        raise common.BenchError('%s does not exist: `make setup` writes it (run make setup first)' % path)
    runs = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = '%s line %d' % (path, number)
            try:
                run = json.loads(line)
            except ValueError as err:
                raise common.BenchError('%s is not JSON: %s' % (where, err)) from err
            if not isinstance(run, dict) or not isinstance(run.get('total_s'), (int, float)):
                raise common.BenchError('%s has no number total_s: %s' % (where, line.strip()))
            if run.get('caffe_cache') not in CACHE_STATES:
                raise common.BenchError('%s: caffe_cache must be one of %s, got %r'
                                        % (where, ', '.join(CACHE_STATES), run.get('caffe_cache')))
            if not isinstance(run.get('steps', {}), dict):
                raise common.BenchError('%s: steps must be an object of step -> seconds' % where)
            runs.append(run)
    return runs


def setup_figures(runs):
    """Per cache state: how many runs, the median and latest total, the median of each step."""
    figures = {}
    for state in CACHE_STATES:
        same = [r for r in runs if r['caffe_cache'] == state]
        if not same:
            figures['cache_' + state] = {'runs': 0}
            continue
        steps = {}
        for run in same:
            for step, seconds in run.get('steps', {}).items():
                steps.setdefault(step, []).append(seconds)
        figures['cache_' + state] = {
            'runs': len(same), 'total_s': statistics.median(r['total_s'] for r in same),
            'latest_total_s': same[-1]['total_s'], 'latest_date': same[-1].get('date'),
            'steps_s': {step: statistics.median(times) for step, times in steps.items()}}
    return figures


def notes(figures):
    lines = []
    for state, meaning in (('hit', 'with the build cache'), ('miss', 'without the build cache (Caffe built)')):
        f = figures['cache_' + state]
        if f['runs']:
            lines.append('make setup %s: %g s (median of %d logged run(s); steps %s)' % (
                meaning, f['total_s'], f['runs'], ', '.join('%s %g s' % kv for kv in f['steps_s'].items())))
        else:
            lines.append('make setup %s: NOT MEASURED, no such run in the log%s' % (
                meaning, '; log one with `CAFFE_FCN_CACHE=$(mktemp -d) make setup`' if state == 'miss' else ''))
    return lines


def rows(figures):
    """(figure, median, target) rows for the README table."""
    out = []
    for state, label in (('hit', 'make setup, Caffe build cached'), ('miss', 'make setup, Caffe built')):
        f = figures['cache_' + state]
        out.append((label, '%g s (%d logged runs)' % (f['total_s'], f['runs']) if f['runs'] else 'not logged', ''))
    return out


def main(argv=None):
    parser = common.argument_parser('setup', __doc__, measures=False)
    parser.add_argument('--log', default=DEFAULT_LOG, help='the setup times log (default: %(default)s)')
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    runs = read_setup_log(args.log)
    return common.run_benchmark('setup', args, argv, {'log': args.log, 'logged_runs': len(runs)},
                                lambda run: setup_figures(runs), notes=notes, timed=False)


if __name__ == '__main__':
    common.run_main(main, 'setup')
