"""The metrics log of a run: JSON lines, only ever appended to.

Each line is one record with an 'event':
  'start'    a fresh run began (variant, split, init weights, schedule)
  'round'    a round ended: iteration, train_loss {output: mean}, scores {output: metrics + loss},
             wall_time (seconds the round took), snapshot
  'resume'   training continued from a solverstate at 'iteration'
  'diverged' the loss became NaN/inf at 'iteration'; the run stopped
  'score'    a standalone scoring of some weights (python -m caffe_fcn.evaluate.score --log)
Rounds logged after a resume from an earlier iteration supersede the rounds they repeat; the file
keeps both, `rounds()` gives the history that led to the latest model.
"""
import json
import math
import os
import time

from caffe_fcn.errors import UserError

LOG_NAME = 'metrics.jsonl'


class MetricsLogError(UserError, ValueError):
    """A metrics log that is missing, malformed, or lacks what was asked of it."""


def log_path(run_or_log):
    """The metrics log of a run directory, or the path itself if it names a file."""
    return os.path.join(run_or_log, LOG_NAME) if os.path.isdir(run_or_log) else run_or_log


def append(path, record):
    """Append one record (stamped with the local time) and flush it to disk."""
    record = dict(record, time=time.strftime('%Y-%m-%dT%H:%M:%S'))
    line = json.dumps(_finite_or_text(record), allow_nan=False)
    with open(path, 'a') as f:
        f.write(line + '\n')
        f.flush()
        os.fsync(f.fileno())


def read(path):
    """All records of a log, in file order."""
    if not os.path.isfile(path):
        raise MetricsLogError('no metrics log at %s (a run directory holds %s)' % (path, LOG_NAME))
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise MetricsLogError('%s:%d is not a JSON line (%s)' % (path, number, err)) from err
            if not isinstance(record, dict) or 'event' not in record:
                raise MetricsLogError("%s:%d is not a metrics record (a JSON object with an 'event')" % (path, number))
            records.append(record)
    return records


def rounds(records):
    """The scored records ('round' and 'score') that make up the latest history, in order."""
    history = []
    for record in records:
        if record['event'] == 'resume':
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
