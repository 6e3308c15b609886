"""compare: our scores next to the paper's (fcn-reference.md section 5), from a hand-made metrics log."""
import json

from caffe_fcn.evaluate import compare
from cli_support import assert_user_error
from caffe_fcn.evaluate.published import METRICS, RESULTS, published_for


def write_log(path, *records):
    with open(path, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
    return str(path)


def round_record(iteration, scores, variant='voc-fcn8s', split='seg11valid', output='semantic'):
    return {'event': 'round', 'variant': variant, 'split': split, 'iteration': iteration,
            'train_loss': {output: 1.0}, 'scores': {output: dict(scores, loss=1.0)}}


OURS = {'pixel_accuracy': 0.901, 'mean_accuracy': 0.76, 'mean_iu': 0.645, 'frequency_weighted_iu': 0.83}


def test_voc_fcn8s_seg11valid_shows_cvpr_table2_and_release_numbers_with_differences(tmp_path, capsys):
    early = dict(OURS, mean_iu=0.1)
    log = write_log(tmp_path / 'metrics.jsonl', {'event': 'start', 'variant': 'voc-fcn8s'},
                    round_record(4000, early), round_record(8000, OURS))
    compare.main([str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'voc-fcn8s on seg11valid (semantic), iteration 8000'
    assert lines[1].split('  ')[0] == 'metric' and 'CVPR Table 2 (FCN-8s)' in lines[1]
    assert 'reference release (FCN-8s heavy)' in lines[1]
    # ours, CVPR Table 2 and its difference, reference release (mean IU only) and its difference
    assert lines[2].split() == ['pixel', 'accuracy', '90.1', '90.3', '-0.2', '-', '-']
    assert lines[3].split() == ['mean', 'accuracy', '76.0', '75.9', '+0.1', '-', '-']
    assert lines[4].split() == ['mean', 'IU', '64.5', '62.7', '+1.8', '65.5', '-1.0']
    assert lines[5].split() == ['f.w.', 'IU', '83.0', '83.2', '-0.2', '-', '-']

    compare.main([log, '--iteration', '4000', '--markdown'])
    markdown = capsys.readouterr().out.splitlines()
    assert '| mean IU | 10.0 | 62.7 | -52.7 | 65.5 | -55.5 |' in markdown
    assert markdown[2] == '| metric | ours | CVPR Table 2 (FCN-8s) | diff | reference release (FCN-8s heavy) | diff |'


def test_split_without_published_number_says_so_and_lists_published_splits(tmp_path, capsys):
    log = write_log(tmp_path / 'm.jsonl', round_record(4000, OURS, split='val'))
    compare.main([log])
    out = capsys.readouterr().out
    assert 'no published number for voc-fcn8s (semantic) on val' in out
    assert 'published splits: VOC2011 test, VOC2012 test, seg11valid' in out


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
