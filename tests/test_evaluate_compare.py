"""compare: our scores next to the paper's (fcn-reference.md section 5), from a hand-made metrics log."""
import json

import pytest

from caffe_fcn.evaluate import compare
from cli_support import assert_user_error
from caffe_fcn.evaluate.published import METRICS, RESULTS, published_for


def write_log(path, *records):
    with open(path, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
    return str(path)


def round_record(iteration, scores, variant='voc-fcn8s', split='seg11valid', output='semantic', **extra):
    return dict({'event': 'round', 'variant': variant, 'split': split, 'iteration': iteration,
                 'train_loss': {output: 1.0}, 'scores': {output: dict(scores, loss=1.0)}}, **extra)


OURS = {'pixel_accuracy': 0.901, 'mean_accuracy': 0.76, 'mean_iu': 0.645, 'frequency_weighted_iu': 0.83}


def test_a_paper_recipe_run_is_shown_next_to_cvpr_table2_with_differences(tmp_path, capsys):
    early = dict(OURS, mean_iu=0.1)
    log = write_log(tmp_path / 'metrics.jsonl', {'event': 'start', 'variant': 'voc-fcn8s'},
                    round_record(4000, early, profile='paper-table2'),
                    round_record(8000, OURS, profile='paper-table2'))
    compare.main([str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'voc-fcn8s on seg11valid (semantic), profile paper-table2, iteration 8000'
    assert lines[1].split('  ')[0] == 'metric' and 'CVPR Table 2 (FCN-8s)' in lines[1]
    assert 'reference release' not in lines[1]  # the heavy recipe's number is another recipe's
    assert lines[2].split() == ['pixel', 'accuracy', '90.1', '90.3', '-0.2']
    assert lines[3].split() == ['mean', 'accuracy', '76.0', '75.9', '+0.1']
    assert lines[4].split() == ['mean', 'IU', '64.5', '62.7', '+1.8']
    assert lines[5].split() == ['f.w.', 'IU', '83.0', '83.2', '-0.2']

    compare.main([log, '--iteration', '4000', '--markdown'])
    markdown = capsys.readouterr().out.splitlines()
    assert '| mean IU | 10.0 | 62.7 | -52.7 |' in markdown
    assert markdown[2] == '| metric | ours | CVPR Table 2 (FCN-8s) | diff |'


def test_a_heavy_run_is_shown_next_to_the_release_numbers(tmp_path, capsys):
    """Logs without a profile were trained with the registry's settings: the release's heavy recipe."""
    log = write_log(tmp_path / 'metrics.jsonl', round_record(8000, OURS))
    compare.main([log])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'voc-fcn8s on seg11valid (semantic), iteration 8000'
    assert lines[1].split('  ')[0] == 'metric' and 'reference release (FCN-8s heavy)' in lines[1]
    assert 'CVPR' not in lines[1]
    assert lines[4].split() == ['mean', 'IU', '64.5', '65.5', '-1.0']


def test_a_profile_without_a_published_number_names_the_profiles_that_have_one(tmp_path, capsys):
    log = write_log(tmp_path / 'm.jsonl', round_record(8000, OURS, variant='voc-fcn32s-fixed'))
    compare.main([log])
    assert ('no published number for voc-fcn32s-fixed (semantic) on seg11valid trained with profile heavy; '
            'published for profile paper-table2') in capsys.readouterr().out


def test_split_without_published_number_says_so_and_lists_published_splits(tmp_path, capsys):
    log = write_log(tmp_path / 'm.jsonl', round_record(4000, OURS, split='val'))
    compare.main([log])
    out = capsys.readouterr().out
    assert 'no published number for voc-fcn8s (semantic) on val' in out
    assert 'published splits: VOC2012 test, seg11valid' in out  # the heavy recipe's: the release's


def test_siftflow_geometric_head_is_compared_with_its_own_pixel_accuracy():
    record = {'event': 'round', 'variant': 'siftflow-fcn16s', 'split': 'test', 'iteration': 2000,
              'scores': {'semantic': dict(OURS), 'geometric': dict(OURS, pixel_accuracy=0.95)}}
    (sem_title, _, sem_rows, _), (geo_title, geo_header, geo_rows, _) = compare.comparison_tables(record)
    assert sem_rows[2][:3] == ['mean IU', '64.5', '39.5']
    assert geo_title.startswith('siftflow-fcn16s on test (geometric)')
    assert geo_header == ['metric', 'ours', 'CVPR Table 5 (FCN-16s)', 'diff']
    assert geo_rows[0] == ['pixel accuracy', '95.0', '94.3', '+0.7']
    assert geo_rows[2] == ['mean IU', '64.5', '-', '-']


def test_missing_log_and_missing_iteration_are_clear_errors(tmp_path, capsys):
    prog = 'python -m caffe_fcn.evaluate.compare'
    assert_user_error(compare.main([str(tmp_path / 'nowhere.jsonl')]), capsys, prog, '^no metrics log at')
    log = write_log(tmp_path / 'm.jsonl', round_record(4000, OURS))
    assert_user_error(compare.main([log, '--iteration', '5']), capsys, prog, 'no round at iteration 5; it has 4000')
    empty = write_log(tmp_path / 'e.jsonl', {'event': 'start'})
    assert_user_error(compare.main([empty]), capsys, prog, 'no scored round yet')
    assert_user_error(compare.main([log, '--variant', 'voc-fcn4s']), capsys, prog, "^unknown variant 'voc-fcn4s'")


def test_published_table_carries_section5_figures_with_sources():
    assert [(r.source, r.mean_iu) for r in published_for('voc-fcn32s', 'seg11valid')] == [
        ('CVPR Table 2', 59.4), ('reference release', 63.6)]
    (color_hha,) = published_for('nyud-fcn32s-color-hha', 'test')
    assert [getattr(color_hha, m) for m in METRICS] == [64.3, 44.9, 32.8, 48.0]
    (context8,) = published_for('pascalcontext-fcn8s', 'val')
    assert [getattr(context8, m) for m in METRICS] == [65.9, 46.5, 35.1, 51.0]
    assert all(r.source for r in RESULTS)


def test_paper_mode_lists_tables_1_2_and_appendix_a_with_commands_and_our_runs(tmp_path, monkeypatch, capsys):
    from caffe_fcn import paths
    monkeypatch.setattr(paths, 'RUNS', str(tmp_path / 'runs'))
    run = tmp_path / 'runs' / 'paper-table2' / 'voc-fcn8s'
    run.mkdir(parents=True)
    write_log(run / 'metrics.jsonl', round_record(8000, OURS, profile='paper-table2'))
    (tmp_path / 'runs' / 'upper-bound' / 'seg11valid').mkdir(parents=True)
    (tmp_path / 'runs' / 'upper-bound' / 'seg11valid' / 'upper_bound.json').write_text(json.dumps(
        {'outputs': {'semantic': {'32': {'mean_iu': 0.8612}, '4': {'mean_iu': 0.99}}}}))
    compare.main(['--paper'])
    out = capsys.readouterr().out
    table2 = [r for r in RESULTS if r.source == 'CVPR Table 2']
    table1 = [r for r in RESULTS if r.source == 'CVPR Table 1']
    assert [r.model for r in table1] == ['FCN-AlexNet', 'FCN-VGG16', 'FCN-GoogLeNet']
    assert [r.model for r in table2] == ['FCN-32s-fixed', 'FCN-32s', 'FCN-16s', 'FCN-8s']
    lines = out.splitlines()
    fcn8s = [l for l in lines if l.startswith('FCN-8s ')]
    assert fcn8s == ['FCN-8s                                         90.3 / 75.9 / 62.7 / 83.2  '
                     '90.1 / 76.0 / 64.5 / 83.0  make voc-fcn8s SOLVE_ARGS="--recipe paper --table 2"']
    assert any(l.startswith('FCN-AlexNet') and l.endswith('make voc-fcn-alexnet SOLVE_ARGS="--recipe paper --table 1"')
               for l in lines)
    assert [l.split() for l in lines if l.startswith(('32 ', '4 ', '128 '))] == [
        ['128', '50.9', '-'], ['32', '86.1', '86.1'], ['4', '98.5', '99.0']]
    assert ('python -m caffe_fcn.evaluate.upper_bound --split seg11valid --factors 128,64,32,16,8,4 '
            '--out runs/upper-bound/seg11valid') in out


def test_paper_mode_and_a_run_are_exclusive(tmp_path):
    with pytest.raises(SystemExit):
        compare.main([])
    with pytest.raises(SystemExit):
        compare.main([str(tmp_path), '--paper'])
