"""What every benchmark shares: the machine's description, child processes measured on their own,
medians over runs, targets, and the results file bench/results/<name>.json."""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from bench.peak_rss import REPORT
from caffe_fcn import atomic, cli
from caffe_fcn.machine import cpu_model as cpu_model_name
from caffe_fcn.nets.registry import VARIANTS
from caffe_fcn.backend import build_flags, import_caffe
from caffe_fcn.paths import ROOT
from caffe_fcn.errors import UserError

RESULTS_DIR = os.path.join(ROOT, 'bench', 'results')
THREAD_VARIABLES = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
#: A 1-minute load average above this share of the usable cores means other work shares the machine.
BUSY_LOAD_SHARE = 0.25


class BenchError(UserError, RuntimeError):
    pass


# ---- the machine ----------------------------------------------------------------------------

def timed(call):
    """Wall seconds of one call()."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def cpu_model():
    return cpu_model_name() or platform.processor() or 'unknown'


def memory_gib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemTotal:'):
                return round(int(line.split()[1]) / 2 ** 20, 1)
    return None


def numpy_blas():
    """The BLAS numpy was built with (its wheel bundles its own OpenBLAS)."""
    try:
        blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
    except (TypeError, KeyError):
        return {'name': 'unknown (numpy.show_config gives no build dependencies)'}
    return {key: blas.get(key) for key in ('name', 'version', 'openblas configuration')}


def caffe_blas():
    """The BLAS/LAPACK libraries pycaffe's _caffe.so loads, as the dynamic loader resolves them."""
    library = os.path.join(os.path.dirname(import_caffe().__file__), '_caffe.so')
    try:
        listing = subprocess.run(['ldd', library], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        return [{'name': 'unknown (ldd %s failed: %s)' % (library, err)}]
    found = []
    for line in listing.splitlines():
        if re.search(r'blas|lapack|mkl|atlas', line):
            name, _, target = line.strip().partition(' => ')
            path = target.split(' (')[0].strip()
            found.append({'name': name, 'path': os.path.realpath(path) if path else None})
    return found


def git_commit():
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ('+uncommitted changes' if dirty else '')


def describe_machine():
    caffe = import_caffe()
    return {
        'cpu': cpu_model(),
        'logical_cores': os.cpu_count(),
        'usable_cores': len(os.sched_getaffinity(0)),
        'memory_gib': memory_gib(),
        'load_average_1m_at_start': round(os.getloadavg()[0], 2),
        'os': platform.platform(),
        'python': platform.python_version(),
        'numpy': np.__version__,
        'numpy_blas': numpy_blas(),
        'caffe': getattr(caffe, '__version__', 'unknown'),
        'caffe_blas': caffe_blas(),
        'caffe_build_flags': build_flags(),
        'thread_variables': {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        'git_commit': git_commit(),
    }


def busy_warning(machine):
    """A warning line when the machine was not quiet at the start, else None."""
    load, cores = machine['load_average_1m_at_start'], machine['usable_cores']
    if load > BUSY_LOAD_SHARE * cores:
        return ('WARNING: load average %.2f on %d usable cores at the start: other work shares this '
                'machine, so these figures are contaminated; rerun on a quiet machine before quoting them'
                % (load, cores))
    return None


# ---- measuring --------------------------------------------------------------------------------

@dataclass
class ChildRun:
    seconds: float        # wall time from spawning the process to its exit
    peak_rss_mib: float   # the program's own peak resident set (bench/peak_rss.py says why not rusage)
    report: dict          # its BENCH-REPORT lines, merged
    stdout: str


def run_module(module, *args):
    """Run `python -m module args...` (or `-c CODE args...`) from the repository root in a process
    of its own, through bench.peak_rss, and measure it."""
    argv = [sys.executable, '-m', 'bench.peak_rss', module] + [str(a) for a in args]
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        start = time.perf_counter()
        status = subprocess.call(argv, stdout=out, stderr=err, cwd=ROOT)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if status:
        how = ('was killed by signal %s' % signal.Signals(-status).name if status < 0
               else 'exited with status %d' % status)
        raise BenchError('%s %s; its last output:\n%s' % (' '.join(argv), how, (stdout + stderr)[-3000:]))
    report = reports(stdout, ' '.join(argv[3:5]))
    return ChildRun(seconds, report['peak_rss_mib'], report, stdout)


def reports(stdout, who):
    """The figures of every report line in `stdout`, merged in order."""
    merged = {}
    for line in stdout.splitlines():
        if line.startswith(REPORT):
            merged.update(json.loads(line[len(REPORT):]))
    if not merged:
        raise BenchError('%s printed no %sline; its output ends:\n%s' % (who, REPORT, stdout[-2000:]))
    return merged


def median_figures(runs):
    """Medians of same-shaped figure dicts: numbers by their median, nested dicts key by key,
    anything else kept when all runs agree and listed otherwise."""
    first = runs[0]
    if isinstance(first, dict):
        keys = list(first)
        for run in runs[1:]:
            if set(run) != set(keys):
                raise BenchError('runs report different figures: %s vs %s' % (sorted(keys), sorted(run)))
        return {key: median_figures([run[key] for run in runs]) for key in keys}
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in runs):
        return statistics.median(runs)
    return first if all(v == first for v in runs) else list(runs)


# ---- targets --------------------------------------------------------------------------------

@dataclass
class Target:
    """A figure with an upper limit; missing one is a finding to report, not an error."""
    name: str
    value: Optional[float]
    limit: float
    unit: str = ''

    @property
    def met(self):
        return None if self.value is None else self.value <= self.limit

    def line(self):
        if self.value is None:
            return 'target %s <= %g%s: NOT MEASURED' % (self.name, self.limit, self.unit)
        verdict = 'met' if self.met else 'MISSED (a finding to report)'
        return 'target %s <= %g%s: %.4g%s, %s' % (self.name, self.limit, self.unit, self.value, self.unit,
                                                 verdict)


# ---- running and recording --------------------------------------------------------------------

def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError('must be at least 1, got %d' % value)
    return value


def names_from(known, what):
    """An argparse type: a comma-separated list of names, each one of `known`."""
    def parse(text):
        names = [n for n in text.split(',') if n]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError('unknown %s %s; known: %s'
                                             % (what, ', '.join(unknown) or '(none given)', ', '.join(known)))
        return names
    return parse


def argument_parser(name, description, measures=True):
    """The options every benchmark takes; `measures=False` for one that only reads logs."""
    parser = cli.parser('python -m bench.' + name, description, 'python -m bench.%s%s' % (name, ' --quick' * measures))
    if not measures:
        parser.set_defaults(runs=1, quick=False)
        return parser
    parser.add_argument('--runs', type=positive_int, default=2,
                        help='how many times to measure; medians are reported (default 2)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny sizes: a smoke pass proving the script works; its figures are not '
                             'to be quoted (written to bench/results/<name>-quick.json)')
    return parser


def add_variants(parser, count, quick):
    """--variants A,B: the deploy nets a benchmark times (default: all `count`; with --quick, `quick`)."""
    parser.add_argument('--variants', type=names_from(VARIANTS, 'variant(s)'),
                        help='comma-separated deploy nets to time (default: all %d; --quick: %s)' % (count, ', '.join(quick)))


def add_repeats(parser, default):
    """--repeats N: timed forwards per net and run, the fastest kept."""
    parser.add_argument('--repeats', type=positive_int, default=default,
                        help='timed forwards per net and run, the fastest kept (default %d)' % default)


def add_images(parser, default):
    """--images N: how many images a benchmark works through."""
    parser.add_argument('--images', type=positive_int, help='images to work through (default %d)' % default)


def flat_lines(figures, prefix=''):
    """'name: value' lines of a nested figure dict, nested names joined by dots."""
    lines = []
    for key, value in figures.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            lines.extend(flat_lines(value, name + '.'))
        elif isinstance(value, float):
            lines.append('%s: %.4g' % (name, value))
        else:
            lines.append('%s: %s' % (name, value))
    return lines


def archive_name(path, date):
    """Where an earlier result at `path` (written on `date`) is moved: <name>.<date>.json, made
    unique with a counter."""
    stem = path[:-len('.json')]
    stamp = re.sub(r'[^0-9A-Za-z]', '', (date or 'undated')[:19])
    candidate, n = '%s.%s.json' % (stem, stamp), 1
    while os.path.exists(candidate):
        n += 1
        candidate = '%s.%s-%d.json' % (stem, stamp, n)
    return candidate


def write_results(name, record, results_dir=RESULTS_DIR):
    """Write `record` to <results_dir>/<name>.json; an earlier result there is moved aside first
    (see archive_name) and the move is printed. Returns (path, archived path or None)."""
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, name + '.json')
    archived = None
    if os.path.exists(path):
        try:
            with open(path) as f:
                date = json.load(f).get('date')
        except (OSError, ValueError, AttributeError):
            date = None
        archived = archive_name(path, date)
        os.rename(path, archived)
    atomic.write_json(path, record)
    return path, archived


def run_benchmark(name, args, argv, settings, measure, targets=None, notes=None, timed=True):
    """Measure `args.runs` times (measure(run_index) -> figures), print every run, the medians
    and the targets, and write the results file. Returns the record written. `timed=False` for
    figures read from logs, which a busy machine does not disturb."""
    result_name = name + ('-quick' if args.quick else '')
    atomic.check_folder(RESULTS_DIR, 'the results folder')
    machine = describe_machine()
    command = ' '.join(['python -m bench.' + name] + list(argv))
    print('== bench %s: %s' % (name, command))
    print('machine: %s, %d usable cores, numpy BLAS %s, Caffe BLAS %s' % (
        machine['cpu'], machine['usable_cores'], machine['numpy_blas'].get('name'),
        ', '.join(lib.get('path') or lib['name'] for lib in machine['caffe_blas']) or 'none found'))
    warnings = [w for w in [timed and busy_warning(machine)] if w]
    if args.quick:
        warnings.append('QUICK: tiny sizes; these figures prove the script runs and are not to be quoted')
    for w in warnings:
        print(w)
    runs = []
    for index in range(args.runs):
        figures = measure(index)
        print('-- run %d of %d' % (index + 1, args.runs) if args.runs > 1 else '-- figures')
        print('\n'.join('  ' + line for line in flat_lines(figures)))
        runs.append(figures)
    median = median_figures(runs)
    found = targets(median) if targets else []
    extra = notes(median) if notes else []
    if len(runs) > 1:
        print('-- median of %d runs' % len(runs))
        print('\n'.join('  ' + line for line in flat_lines(median)))
    for line in [t.line() for t in found] + extra:
        print(line)
    record = {
        'benchmark': name, 'command': command,
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': machine, 'warnings': warnings, 'settings': settings,
        'runs': runs, 'median': median,
        'targets': [dict(asdict(t), met=t.met) for t in found], 'notes': extra,
    }
    path, archived = write_results(result_name, record)
    if archived:
        print('moved the previous %s to %s' % (os.path.relpath(path, ROOT), os.path.relpath(archived, ROOT)))
    print('wrote %s' % os.path.relpath(path, ROOT))
    return record


def run_main(main, name):
    """Run benchmark `name`'s main(); a BenchError (or any UserError) ends it with one line and exit status 2."""
    def benchmark():
        main()  # its return value is the results record, not an exit status
    sys.exit(cli.guarded('python -m bench.' + name, benchmark))
