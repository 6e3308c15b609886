"""The fast demo end to end: every stage leaves its files and finite metrics. The full demo's
quality claims are measured by `make demo` (README, "The demo"), not asserted here."""
import json
import math
import os

import numpy as np
import pytest

from caffe_fcn.train import metrics_log
from caffe_fcn.data.labels import load_label_png
from caffe_fcn.demo import dataset, pipeline, report
from caffe_fcn.demo.__main__ import main
from caffe_fcn.demo.config import FAST
from caffe_fcn.evaluate.published import METRICS
from cli_support import assert_user_error

STAGES = ('demo-fcn32s', 'demo-fcn16s', 'demo-fcn8s')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    data, out = str(root / 'data'), str(root / 'runs')
    pipeline.run(FAST, data, out, log=lambda text: None)
    pipeline.run_ablation(FAST, data, out, log=lambda text: None)
    text = report.write(out, data, command='test', seconds=1.0)
    return data, out, text


def test_every_stage_left_its_files(demo):
    data, out, _ = demo
    where = pipeline.paths(out)
    for path in (where['pretrained'], where['random'], where['summary'], where['baseline'], where['timings'],
                 where['chain_plot'],
                 os.path.join(where['ilsvrc'], 'classifier.caffemodel'),
                 os.path.join(where['ilsvrc'], 'classifier-init.caffemodel'), os.path.join(out, 'report.md')):
        assert os.path.isfile(path), path
    for name in STAGES + (pipeline.ABLATION,):
        run = os.path.join(out, name)
        for path in ('metrics.jsonl', 'metrics.png', name + '.caffemodel'):
            assert os.path.exists(os.path.join(run, path)), (name, path)
        for net in ('train', 'val', 'deploy', 'solver'):
            assert os.path.isfile(os.path.join(out, 'nets', name, net + '.prototxt'))
    for name in dataset.image_ids('val', FAST.overlays):
        label = load_label_png(os.path.join(where['overlays'], name + '.png'))
        assert label.max() < len(dataset.CLASSES)
        assert os.path.isfile(os.path.join(where['overlays'], name + '_overlay.png'))


def test_stages_ran_their_schedule_and_metrics_are_finite(demo):
    _, out, _ = demo
    for name, stage in zip(STAGES + (pipeline.ABLATION,), FAST.stages + (FAST.stages[0],)):
        rounds = metrics_log.rounds(metrics_log.read(os.path.join(out, name, 'metrics.jsonl')))
        assert [r['iteration'] for r in rounds] == [stage.steps * (i + 1) for i in range(stage.rounds)]
        scores = rounds[-1]['scores']['semantic']
        assert scores['images'] == FAST.val_images
        for value in [scores[m] for m in METRICS] + [scores['loss']] + list(rounds[-1]['train_loss'].values()):
            assert math.isfinite(value)


def test_later_stages_start_from_the_earlier_ones_by_surgery(demo):
    _, out, _ = demo
    starts = {name: metrics_log.read(os.path.join(out, name, 'metrics.jsonl'))[0]['weights'] for name in STAGES}
    where = pipeline.paths(out)
    assert starts['demo-fcn32s'] == [where['pretrained']]
    assert starts['demo-fcn16s'] == [os.path.join(out, 'demo-fcn32s', 'demo-fcn32s.caffemodel')]
    assert starts['demo-fcn8s'] == [os.path.join(out, 'demo-fcn16s', 'demo-fcn16s.caffemodel')]
    ablation = metrics_log.read(os.path.join(out, pipeline.ABLATION, 'metrics.jsonl'))[0]
    assert ablation['weights'] == [where['random']]


def test_baseline_pixel_accuracy_is_the_background_share_of_labelled_val_pixels(demo):
    data, out, _ = demo
    labels = np.concatenate([load_label_png(os.path.join(data, 'SegmentationClass', n + '.png')).ravel()
                             for n in dataset.image_ids('val', FAST.val_images)])
    labelled = labels[labels != 255]
    with open(pipeline.paths(out)['baseline']) as f:
        baseline = json.load(f)
    assert baseline['pixel_accuracy'] == pytest.approx(np.mean(labelled == 0))
    assert baseline['mean_iu'] == pytest.approx(np.mean(labelled == 0) / (len(np.unique(labelled))))


def test_report_shows_every_model_the_paper_labelled_as_another_dataset_and_the_claims(demo):
    _, out, text = demo
    for label in ('all background (trivial)', 'FCN-32s', 'FCN-16s', 'FCN-8s', report.ABLATION_LABEL):
        assert label in text
    assert 'DIFFERENT dataset' in text and 'CVPR Table 2' in text
    assert 'FCN-8s beats FCN-32s' in text and 'random init' in text
    with open(os.path.join(out, 'report.md')) as f:
        assert f.read().startswith('# caffe-fcn demo report')


def test_a_second_run_into_the_same_folder_is_refused_and_changes_nothing(demo, capsys):
    data, out, _ = demo
    before = sorted(os.listdir(out))
    assert_user_error(main(['run', '--fast', '--data', data, '--out', out]), capsys, 'python -m caffe_fcn.demo',
                      'already holds a demo run')
    assert sorted(os.listdir(out)) == before


def test_ablation_without_a_demo_run_says_what_to_run_first(tmp_path, capsys):
    status = main(['ablation', '--fast', '--data', str(tmp_path / 'data'), '--out', str(tmp_path / 'runs')])
    assert_user_error(status, capsys, 'python -m caffe_fcn.demo', 'run the demo first')


def test_a_second_run_with_the_same_seed_repeats_every_score(demo, tmp_path):
    data, out, _ = demo
    again = str(tmp_path / 'runs')
    pipeline.run(FAST, data, again, log=lambda text: None)
    for name in STAGES:
        first, second = (metrics_log.rounds(metrics_log.read(os.path.join(folder, name, 'metrics.jsonl')))
                         for folder in (out, again))
        untimed = lambda rounds: [{k: v for k, v in r['scores']['semantic'].items() if k != 'seconds'} for r in rounds]
        assert untimed(first) == untimed(second)
        assert [r['train_loss'] for r in first] == [r['train_loss'] for r in second]


def test_a_model_the_demo_trained_is_used_by_infer_and_score_through_its_net_folder(demo, tmp_path, capsys):
    """runs/demo/nets/demo-fcn8s names the demo's variant (its variant.json); no nets are copied."""
    from caffe_fcn.evaluate import infer, score
    data, out, _ = demo
    nets, weights = os.path.join(out, 'nets', 'demo-fcn8s'), os.path.join(out, 'demo-fcn8s', 'demo-fcn8s.caffemodel')
    image = os.path.join(data, 'JPEGImages', dataset.image_ids('val', 1)[0] + '.jpg')
    assert infer.main([nets, image, '--weights', weights, '--out', str(tmp_path / 'labels')]) == 0
    ours = load_label_png(str(tmp_path / 'labels' / os.path.basename(image).replace('.jpg', '.png')))
    theirs = load_label_png(os.path.join(pipeline.paths(out)['overlays'], os.path.basename(image).replace('.jpg', '.png')))
    assert (ours == theirs).all()  # the demo's own overlays step, by the same model
    assert score.main([nets, '--weights', weights, '--out', str(tmp_path / 'scores')]) == 0
    logged = metrics_log.read(str(tmp_path / 'scores' / 'metrics.jsonl'))[-1]['scores']['semantic']
    last_round = metrics_log.rounds(metrics_log.read(os.path.join(out, 'demo-fcn8s', 'metrics.jsonl')))[-1]
    assert logged['mean_iu'] == pytest.approx(last_round['scores']['semantic']['mean_iu'], rel=1e-5)
