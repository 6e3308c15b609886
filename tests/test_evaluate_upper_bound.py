"""CVPR Appendix A's upper bound: ground truth down- and upsampled by block majority, scored with
the paper's metrics. Truth: IU computed by hand on tiny label maps, and a loop-per-block
re-implementation on fixture datasets read through the real data layers."""
import collections
import json

import numpy as np
import pytest

from caffe_fcn.data.fixtures import write_siftflow, write_voc
from cli_support import assert_user_error
from caffe_fcn.evaluate import upper_bound
from caffe_fcn.evaluate.metrics import fast_hist, segmentation_metrics
from caffe_fcn.evaluate.upper_bound import bound, simulated

STAIR = np.array([[0, 0, 1, 1],
                  [0, 0, 1, 1],
                  [0, 1, 1, 1],
                  [1, 1, 1, 1]], dtype=np.uint8)


def test_factor_2_on_a_stair_by_hand():
    """Blocks: top-left all 0 -> 0; the other three are mostly 1 -> 1. Only pixel (2, 0), a 0,
    becomes 1: hist [[4, 1], [0, 11]], IU 4/5 and 11/12, mean IU 0.8583, pixel accuracy 15/16."""
    np.testing.assert_array_equal(simulated(STAIR, 2, 2), [[0, 0, 1, 1], [0, 0, 1, 1],
                                                           [1, 1, 1, 1], [1, 1, 1, 1]])
    m = bound([STAIR], [2], 2)[2]
    assert m['mean_iu'] == pytest.approx((4 / 5 + 11 / 12) / 2)
    assert m['pixel_accuracy'] == pytest.approx(15 / 16)
    assert m['mean_accuracy'] == pytest.approx((4 / 5 + 1) / 2)


def test_factor_4_keeps_the_majority_class_only_and_factor_1_is_exact():
    """One 4 x 4 block, 11 ones to 5 zeros: all 1. IU(0) = 0, IU(1) = 11/16, mean IU 11/32."""
    results = bound([STAIR], [4, 1], 2)
    assert results[4]['mean_iu'] == pytest.approx(11 / 32)
    assert results[4]['per_class_iu'] == [0.0, pytest.approx(11 / 16)]
    assert results[1]['mean_iu'] == 1.0


def test_void_pixels_do_not_vote_and_an_all_void_block_scores_nothing():
    """Block (0, 0) holds three voids and one 0: it is 0. Block (0, 1): two 2s. Block (1, 0) is
    all void, so it stays void and none of its pixels is scored. Ties go to the lower class:
    block (1, 1) holds two 1s and two 2s and becomes 1."""
    label = np.array([[255, 255, 2, 2],
                      [255, 0, 2, 2],
                      [255, 255, 1, 2],
                      [255, 255, 2, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(simulated(label, 2, 3), [[0, 0, 2, 2], [0, 0, 2, 2],
                                                           [255, 255, 1, 1], [255, 255, 1, 1]])
    hist = fast_hist(label, simulated(label, 2, 3), 3)
    assert hist.tolist() == [[1, 0, 0], [0, 2, 0], [0, 2, 4]]


def test_partial_edge_blocks_are_their_own_cells():
    """5 x 3 at factor 4: blocks are rows 0-3 / 4 and columns 0-2; the one-row block keeps its
    own class instead of being outvoted."""
    label = np.zeros((5, 3), np.uint8)
    label[4] = 7
    np.testing.assert_array_equal(simulated(label, 4, 8), label)


def by_loops(label, factor, classes):
    """The same simulation, one block at a time with a Counter (independent of the bincount)."""
    out = np.full(label.shape, 255, np.uint8)
    for r in range(0, label.shape[0], factor):
        for c in range(0, label.shape[1], factor):
            block = label[r:r + factor, c:c + factor]
            votes = collections.Counter(int(v) for v in block.flat if v < classes)
            if votes:
                best = max(votes.values())
                out[r:r + factor, c:c + factor] = min(k for k, v in votes.items() if v == best)
    return out


def expected(labels, factor, classes):
    hist = sum(fast_hist(l, by_loops(l, factor, classes), classes) for l in labels)
    return segmentation_metrics(hist)


def test_cli_on_a_voc_layout_reads_the_split_through_the_data_layer(tmp_path, capsys):
    fixture = write_voc(str(tmp_path / 'VOC'), {'val': 5}, sizes=((37, 50), (64, 41)))
    out = tmp_path / 'bound'
    assert upper_bound.main(['--data-dir', fixture.root, '--split', 'val', '--factors', '8,2,1',
                             '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'CVPR App. A mean IU' in printed and '\n     8 ' in printed
    record = json.loads((out / 'upper_bound.json').read_text())
    labels = [fixture.samples[i]['label'] for i in fixture.splits['val']]
    for factor in (8, 2):
        ours = record['outputs']['semantic'][str(factor)]
        assert ours['mean_iu'] == pytest.approx(expected(labels, factor, 21)['mean_iu'])
        assert ours['frequency_weighted_iu'] == pytest.approx(expected(labels, factor, 21)['frequency_weighted_iu'])
    assert record['outputs']['semantic']['1']['mean_iu'] == 1.0
    assert record['outputs']['semantic']['8']['mean_iu'] < 0.99  # coarse blocks do lose pixels
    status = upper_bound.main(['--data-dir', fixture.root, '--split', 'val', '--out', str(out)])
    assert_user_error(status, capsys, 'python -m caffe_fcn.evaluate.upper_bound', 'upper_bound.json already exists')


def test_cli_bounds_each_head_of_a_two_headed_dataset(tmp_path, capsys):
    fixture = write_siftflow(str(tmp_path / 'sift'), {'test': 3})
    assert upper_bound.main(['--variant', 'siftflow-fcn32s', '--data-dir', fixture.root, '--split', 'test',
                             '--factors', '4', '--out', str(tmp_path / 'b')]) == 0
    record = json.loads((tmp_path / 'b' / 'upper_bound.json').read_text())
    assert sorted(record['outputs']) == ['geometric', 'semantic']
    geo = [np.where(s['geo'] >= 1, s['geo'] - 1, 255).astype(np.uint8)
           for s in (fixture.samples[i] for i in fixture.splits['test'])]
    assert record['outputs']['geometric']['4']['mean_iu'] == pytest.approx(expected(geo, 4, 3)['mean_iu'])


@pytest.mark.parametrize('factors', ['', '0,2', 'a,b'])
def test_bad_factors_are_a_usage_error(factors, capsys):
    with pytest.raises(SystemExit) as exit:
        upper_bound.main(['--split', 'val', '--factors', factors])
    assert exit.value.code == 2 and 'factors must be positive integers' in capsys.readouterr().err


def test_a_missing_split_is_one_line(capsys):
    status = upper_bound.main(['--factors', '4'])
    assert_user_error(status, capsys, 'python -m caffe_fcn.evaluate.upper_bound', 'name the labelled split')
