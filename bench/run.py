"""Run every benchmark (`make bench`), each in a process of its own and --runs times (medians
reported), then print the README's table of the figures from bench/results/*.json.

    python -m bench.run [--quick] [--runs N] [--only infer,solve,...]

A benchmark that fails is reported at the end (and the exit status is 1); the others still run.
A missed target is a finding printed with the figures, not a failure.
"""
import importlib
import json
import os
import subprocess
import sys

from bench import common
from caffe_fcn import cli

#: Run order: the log reader first, then the cheap bound, then the costly comparisons.
BENCHMARKS = ('setup', 'throughput', 'infer', 'solve', 'score')


def table(names, quick):
    """Markdown rows 'benchmark | figure | median | target' from the results files of `names`."""
    lines = ['| benchmark | figure | median | target |', '|---|---|---|---|']
    for name in names:
        path = os.path.join(common.RESULTS_DIR, name + ('-quick' if quick and name != 'setup' else '') + '.json')
        if not os.path.exists(path):
            continue
        with open(path) as f:
            record = json.load(f)
        for figure, value, target in importlib.import_module('bench.' + name).rows(record['median']):
            lines.append('| %s | %s | %s | %s |' % (name, figure, value, target))
    return lines


def main(argv=None):
    parser = common.argument_parser('run', __doc__)
    parser.add_argument('--only', type=common.names_from(BENCHMARKS, 'benchmark(s)'), default=list(BENCHMARKS),
                        help='comma-separated benchmarks to run (default: all of %s)' % ', '.join(BENCHMARKS))
    return cli.run(parser, lambda args: run(args, argv), argv)


def run(args, argv):
    failed = []
    for name in args.only:
        flags = [] if name == 'setup' else ['--runs', str(args.runs)] + (['--quick'] if args.quick else [])
        status = subprocess.call([sys.executable, '-m', 'bench.' + name] + flags, cwd=common.ROOT)
        if status:
            failed.append('%s (exit status %d)' % (name, status))
        print(flush=True)
    print('== figures (median of %d runs; command: python -m bench.run%s)' % (
        args.runs, ' '.join([''] + (argv if argv is not None else sys.argv[1:]))))
    print('\n'.join(table(args.only, args.quick)))
    if failed:
        print('FAILED: %s; see their output above' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
