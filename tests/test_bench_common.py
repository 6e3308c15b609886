"""What the benchmarks share: medians over runs, targets, results that are never lost, the setup log,
and child processes measured on their own."""
import json

import pytest

from bench import common
from bench.peak_rss import report_line
from bench.setup import read_setup_log, setup_figures


def test_median_of_runs_is_taken_figure_by_figure():
    runs = [{'a': 1.0, 'nets': {'x': 5, 'y': 'same'}}, {'a': 3.0, 'nets': {'x': 1, 'y': 'same'}},
            {'a': 2.0, 'nets': {'x': 9, 'y': 'same'}}]
    assert common.median_figures(runs) == {'a': 2.0, 'nets': {'x': 5, 'y': 'same'}}
    assert common.median_figures([{'a': 1}, {'a': 4}]) == {'a': 2.5}  # even count: mean of the middle two


def test_runs_with_different_figures_are_an_error():
    with pytest.raises(common.BenchError, match='different figures'):
        common.median_figures([{'a': 1}, {'b': 1}])


def test_target_is_met_at_the_limit_and_missed_above_it():
    assert common.Target('overhead', 3.0, 3.0, ' %').met
    missed = common.Target('overhead', 3.1, 3.0, ' %')
    assert missed.met is False and 'MISSED' in missed.line()
    assert common.Target('overhead', None, 3.0).met is None
    assert 'NOT MEASURED' in common.Target('overhead', None, 3.0).line()


def test_an_earlier_result_is_moved_aside_not_overwritten(tmp_path):
    first = {'date': '2026-01-02T03:04:05+00:00', 'value': 1}
    path, archived = common.write_results('infer', first, results_dir=str(tmp_path))
    assert archived is None
    path, archived = common.write_results('infer', {'date': 'later', 'value': 2}, results_dir=str(tmp_path))
    assert archived.endswith('infer.20260102T030405.json')
    assert json.load(open(archived)) == first
    assert json.load(open(path))['value'] == 2
    common.write_results('infer', {'date': 'last', 'value': 3}, results_dir=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['infer.20260102T030405.json', 'infer.json',
                                                          'infer.later.json']


def test_child_peak_rss_is_its_own_not_its_fat_parents():
    """A child holding 200 MiB peaks above 200 MiB; a bare interpreter stays far below 300 MiB even
    though this test process holds 300 MiB when it forks (the child's rusage would count them)."""
    ballast = bytearray(300 * 2 ** 20)
    ballast[::4096] = b'x' * len(ballast[::4096])  # touch every page: resident
    big = common.run_module('-c', 'b = bytearray(200 * 2**20); b[::4096] = b"x" * len(b[::4096]); print("done")')
    small = common.run_module('-c', 'print("done")')
    assert big.stdout.startswith('done\n')
    assert big.peak_rss_mib > 200 > 100 > small.peak_rss_mib
    assert len(ballast) == 300 * 2 ** 20


def test_module_runs_with_its_arguments_and_reports_merge():
    child = common.run_module('-c', 'import sys; from bench.peak_rss import report_line; '
                                    'print(report_line({"args": sys.argv[1:]}))', 'one', 2)
    assert child.report['args'] == ['one', '2']
    assert child.report['peak_rss_mib'] == child.peak_rss_mib > 0


def test_failing_child_reports_its_output():
    with pytest.raises(common.BenchError, match='(?s)exited with status 3.*went wrong'):
        common.run_module('-c', 'import sys; print("went wrong"); sys.exit(3)')


def test_report_lines_merge_and_their_absence_is_named():
    out = 'noise\n' + report_line({'seconds': 1.5}) + '\n' + report_line({'peak': 2}) + '\n'
    assert common.reports(out, 'worker') == {'seconds': 1.5, 'peak': 2}
    with pytest.raises(common.BenchError, match='worker printed no BENCH-REPORT'):
        common.reports('noise\n', 'worker')


def write_log(tmp_path, lines):
    path = tmp_path / 'setup-times.jsonl'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def test_setup_times_are_medians_per_cache_state(tmp_path):
    path = write_log(tmp_path, [
        json.dumps({'date': 'd1', 'total_s': 300, 'caffe_cache': 'miss', 'steps': {'caffe': 280, 'venv': 20}}),
        json.dumps({'date': 'd2', 'total_s': 17, 'caffe_cache': 'hit', 'steps': {'caffe': 1, 'venv': 14}}),
        json.dumps({'date': 'd3', 'total_s': 21, 'caffe_cache': 'hit', 'steps': {'caffe': 3, 'venv': 16}}),
        json.dumps({'date': 'd4', 'total_s': 19, 'caffe_cache': 'hit', 'steps': {'caffe': 2, 'venv': 15}})])
    figures = setup_figures(read_setup_log(path))
    assert figures['cache_hit'] == {'runs': 3, 'total_s': 19, 'latest_total_s': 19, 'latest_date': 'd4',
                                    'steps_s': {'caffe': 2, 'venv': 15}}
    assert figures['cache_miss']['total_s'] == 300 and figures['cache_miss']['runs'] == 1


def test_setup_log_without_a_miss_says_so(tmp_path):
    path = write_log(tmp_path, [json.dumps({'total_s': 17, 'caffe_cache': 'hit', 'steps': {}})])
    assert setup_figures(read_setup_log(path))['cache_miss'] == {'runs': 0}


@pytest.mark.parametrize('line, message', [
    ('{not json', 'line 2 is not JSON'),
    ('{"caffe_cache": "hit"}', 'line 2 has no number total_s'),
    ('{"total_s": 3, "caffe_cache": "warm"}', "line 2: caffe_cache must be one of hit, miss, got 'warm'"),
])
def test_malformed_setup_log_names_the_line(tmp_path, line, message):
    path = write_log(tmp_path, ['{"total_s": 17, "caffe_cache": "hit"}', line])
    with pytest.raises(common.BenchError, match=message):
        read_setup_log(path)


def test_missing_setup_log_says_to_run_setup(tmp_path):
    with pytest.raises(common.BenchError, match='make setup'):
        read_setup_log(str(tmp_path / 'absent.jsonl'))
