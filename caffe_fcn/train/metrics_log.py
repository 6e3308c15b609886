"""The metrics log of a run: JSON lines, only ever appended to.

Each line is one record with an 'event':
  'start'    a fresh run began (variant, split, init weights, schedule)
  'round'    a round ended: iteration, train_loss {output: mean}, scores {output: metrics + loss},
             wall_time (seconds the round took), snapshot
  'resume'   training continued from a solverstate at 'iteration'
  'diverged' the loss became NaN/inf at 'iteration'; the run stopped
  'score'    a standalone scoring of some weights (python -m caffe_fcn.evaluate.score --log)
Rounds logged after a resume from an earlier iteration supersede the rounds they repeat; the file
keeps both, `rounds()` gives the history that led to the latest model. Every append rewrites the log
through a temporary name (a kill never tears a line); readers skip a torn line left by other writers.
"""
import fcntl
import json
import math
import os
import sys
import time

from caffe_fcn import atomic
from caffe_fcn.errors import UserError

LOG_NAME = 'metrics.jsonl'


class MetricsLogError(UserError, ValueError):
    """A metrics log that is missing, malformed, or lacks what was asked of it."""


def log_path(run_or_log):
    """The metrics log of a run directory, or the path itself if it names a file."""
    return os.path.join(run_or_log, LOG_NAME) if os.path.isdir(run_or_log) else run_or_log


def append(path, record):
    """Append one record (stamped with the local time) by writing the whole log anew under a temporary
    name and renaming it into place (caffe_fcn.atomic): a kill or a full disk leaves the log as it was.
    A log whose last line was cut short (by an older writer) keeps it; the record starts a fresh line.
    Appenders in other processes wait for each other (a lock on the log's folder)."""
    record = dict(record, time=time.strftime('%Y-%m-%dT%H:%M:%S'))
    line = (json.dumps(_finite_or_text(record), allow_nan=False) + '\n').encode()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        old = b''
        if os.path.exists(path):
            with open(path, 'rb') as f:
                old = f.read()
        if old and not old.endswith(b'\n'):
            old += b'\n'
        atomic.write_bytes(path, old + line, replace=True)
    finally:
        os.close(handle)  # releases the lock


def read(path, warn=None):
    """All records of a log, in file order. A line that is not whole JSON (a write cut short) is
    skipped with a warning through `warn` (default: a line on stderr), so one torn line never makes a
    log unreadable; a JSON line that is not a record, or a file with no record at all, is an error."""
    warn = warn or (lambda text: print('warning: ' + text, file=sys.stderr))
    if not os.path.isfile(path):
        raise MetricsLogError('no metrics log at %s (a run directory holds %s)' % (path, LOG_NAME))
    records, skipped = [], 0
    with open(path, 'rb') as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:  # JSON or UTF-8 cut in the middle
                skipped += 1
                warn('%s:%d is not a whole JSON line (a write cut short?); skipped' % (path, number))
                continue
            if not isinstance(record, dict) or 'event' not in record:
                raise MetricsLogError("%s:%d is not a metrics record (a JSON object with an 'event'): "
                                      'is %s a metrics log?' % (path, number, path))
            records.append(record)
    if skipped and not records:
        raise MetricsLogError('%s holds no whole metrics record: is it a metrics log?' % path)
    return records


def rounds(records):
    """The scored records ('round' and 'score') that make up the latest history, in order. A 'start'
    begins the history again (a fresh start of a run that had no round yet may follow a failed one)."""
    history = []
    for record in records:
        if record['event'] == 'start':
            history = [r for r in history if r['event'] != 'round']
        elif record['event'] == 'resume':
            history = [r for r in history if r['event'] != 'round' or r['iteration'] <= record['iteration']]
        elif record['event'] in ('round', 'score'):
            history.append(record)
    return history


def _finite_or_text(value):
    """JSON has no NaN or infinity: write them as the strings 'nan', 'inf', '-inf'."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite_or_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_text(v) for v in value]
    return value
