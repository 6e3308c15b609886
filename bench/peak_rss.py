"""Run a module as `python -m MODULE ARGS...` would (or code, as `python -c CODE ARGS...`), then
report the peak resident set of this program alone, as the last line of its output:

    python -m bench.peak_rss caffe_fcn.evaluate.infer voc-fcn8s photo.jpg ...
    python -m bench.peak_rss -c "data = bytearray(2**28)"

The peak is VmHWM of /proc/self/status, which counts the memory mapped since this program was
exec'd. The parent's rusage of a child (ru_maxrss) would not do: Linux carries into it the memory
of the process the child was forked from, so a small child of a large benchmark looks large.
This module imports nothing heavy, so it adds nothing to the figures it reports.
"""
import atexit
import json
import runpy
import sys

REPORT = 'BENCH-REPORT '  # the prefix of the lines bench.common.reports reads


def report_line(figures):
    """A line of figures a worker process prints for its parent (bench.common.reports reads it)."""
    return REPORT + json.dumps(figures)


def peak_rss_mib():
    """Peak resident set of this program so far (VmHWM), in MiB."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    raise RuntimeError('/proc/self/status has no VmHWM line: peak RSS is measured on Linux only')


def report():
    sys.stdout.flush()
    print(report_line({'peak_rss_mib': peak_rss_mib()}), flush=True)


def main():
    if len(sys.argv) < 2 or (sys.argv[1] == '-c' and len(sys.argv) < 3):
        sys.exit('usage: python -m bench.peak_rss MODULE [ARGS...] | -c CODE [ARGS...]')
    atexit.register(report)  # also after the program's own sys.exit
    if sys.argv[1] == '-c':
        code = sys.argv[2]
        sys.argv = ['-c'] + sys.argv[3:]
        exec(compile(code, '<string>', 'exec'), {'__name__': '__main__'})
    else:
        module = sys.argv[1]
        sys.argv = [module] + sys.argv[2:]
        runpy.run_module(module, run_name='__main__', alter_sys=True)


if __name__ == '__main__':
    main()
