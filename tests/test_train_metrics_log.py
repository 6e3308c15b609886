"""The metrics log (JSON lines, append-only, resume-aware) and the plot drawn from it."""
import json

import numpy as np
import pytest
from PIL import Image

from caffe_fcn.evaluate import plot
from caffe_fcn.train import metrics_log
from cli_support import assert_user_error


def round_record(iteration, mean_iu, outputs=('semantic',)):
    return {'event': 'round', 'variant': 'v', 'split': 's', 'iteration': iteration,
            'train_loss': {o: 10.0 / iteration for o in outputs},
            'scores': {o: {'loss': 5.0 / iteration, 'mean_iu': mean_iu} for o in outputs}}


def test_records_are_appended_as_strict_json_lines_and_read_back(tmp_path):
    path = str(tmp_path / 'metrics.jsonl')
    metrics_log.append(path, {'event': 'start', 'variant': 'v'})
    metrics_log.append(path, round_record(10, 0.5))
    metrics_log.append(path, {'event': 'diverged', 'iteration': 12, 'loss': float('nan')})
    lines = open(path).read().splitlines()
    assert len(lines) == 3
    for line in lines:  # strict JSON: parse_constant fails on NaN/Infinity
        json.loads(line, parse_constant=lambda c: pytest.fail('non-standard JSON constant %s' % c))
    records = metrics_log.read(path)
    assert [r['event'] for r in records] == ['start', 'round', 'diverged']
    assert records[1]['scores'] == {'semantic': {'loss': 0.5, 'mean_iu': 0.5}}
    assert records[2]['loss'] == 'nan'
    assert all('time' in r for r in records)
    assert metrics_log.log_path(str(tmp_path)) == path


def test_rounds_after_resume_from_earlier_iteration_supersede_the_repeated_ones(tmp_path):
    path = str(tmp_path / 'metrics.jsonl')
    for record in [round_record(10, 0.1), round_record(20, 0.2), round_record(30, 0.3),
                   {'event': 'resume', 'iteration': 20}, round_record(30, 0.35), round_record(40, 0.4)]:
        metrics_log.append(path, record)
    assert len(metrics_log.read(path)) == 6  # nothing dropped from the file
    history = metrics_log.rounds(metrics_log.read(path))
    assert [(r['iteration'], r['scores']['semantic']['mean_iu']) for r in history] == [
        (10, 0.1), (20, 0.2), (30, 0.35), (40, 0.4)]


def test_torn_line_is_skipped_with_a_warning_naming_file_and_line_and_other_json_is_an_error(tmp_path):
    path = tmp_path / 'metrics.jsonl'
    path.write_text('{"event": "start"}\n{"event": \n{"event": "round", "iteration": 3}\n')
    warnings = []
    assert metrics_log.read(str(path), warn=warnings.append) == [{'event': 'start'}, {'event': 'round', 'iteration': 3}]
    assert warnings == ['%s:2 is not a whole JSON line (a write cut short?); skipped' % path]
    path.write_text('[1, 2]\n')
    with pytest.raises(ValueError, match=r'metrics.jsonl:1 is not a metrics record'):
        metrics_log.read(str(path))
    path.write_text('name: "VGG"\nlayer {\n')
    with pytest.raises(ValueError, match=r'metrics.jsonl holds no whole metrics record: is it a metrics log'):
        metrics_log.read(str(path), warn=warnings.append)


def test_plot_draws_loss_and_mean_iu_for_each_output_head(tmp_path, capsys):
    path = str(tmp_path / 'metrics.jsonl')
    for i, iu in [(100, 0.2), (200, 0.4), (300, 0.5)]:
        metrics_log.append(path, round_record(i, iu, outputs=('semantic', 'geometric')))
    plot.main([str(tmp_path)])
    assert capsys.readouterr().out.strip() == 'wrote %s' % (tmp_path / 'metrics.png')
    image = np.asarray(Image.open(tmp_path / 'metrics.png').convert('RGB'))
    assert image.shape == (600, 700, 3)
    # Loss lines take matplotlib's colours in order: train/test semantic blue/orange, then the
    # geometric head's green (44, 160, 44) and red (214, 39, 40), which a one-head plot never draws.
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert {(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)} <= colours
    # --out is a folder; an existing plot is never replaced.
    before = (tmp_path / 'metrics.png').read_bytes()
    assert_user_error(plot.main([path]), capsys, 'python -m caffe_fcn.evaluate.plot',
                      r'metrics.png already exists; not replacing it')
    assert (tmp_path / 'metrics.png').read_bytes() == before
    assert plot.main([path, '--out', str(tmp_path / 'again')]) == 0
    assert capsys.readouterr().out.strip() == 'wrote %s' % (tmp_path / 'again' / 'metrics.png')
    assert (tmp_path / 'again' / 'metrics.png').read_bytes() == before
    with pytest.raises(SystemExit):  # argparse: --out names a folder, not the file
        plot.main([path, '--out', str(tmp_path / 'metrics.png')])
    assert 'is a file; --out names a folder' in capsys.readouterr().err


def test_plot_without_rounds_is_a_clear_error(tmp_path, capsys):
    path = str(tmp_path / 'metrics.jsonl')
    metrics_log.append(path, {'event': 'start'})
    assert_user_error(plot.main([path]), capsys, 'python -m caffe_fcn.evaluate.plot', '^no training round to plot yet$')
