"""`make <variant>`: the stage chain each variant needs, what is skipped, and what stops it at once."""
import os
import subprocess
import time

import pytest

from caffe_fcn import paths
from caffe_fcn.nets.registry import VARIANTS, get_variant
from caffe_fcn.paths import ROOT
from caffe_fcn.train import chain, prerequisites


def test_stage_chains_follow_each_variants_init(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'RUNS', str(tmp_path / 'runs'))  # nothing trained: the whole chain remains
    assert chain.remaining('voc-fcn32s') == ([], ['voc-fcn32s'])
    assert chain.remaining('voc-fcn8s') == ([], ['voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s'])
    assert chain.remaining('pascalcontext-fcn8s') == ([], ['pascalcontext-fcn32s', 'pascalcontext-fcn16s', 'pascalcontext-fcn8s'])
    assert chain.remaining('nyud-fcn32s-color-hha') == ([], ['nyud-fcn32s-color', 'nyud-fcn32s-hha', 'nyud-fcn32s-color-hha'])
    assert chain.remaining('voc-fcn8s-atonce') == ([], ['voc-fcn8s-atonce'])


def make_dry_run(*args):
    """The commands `make -n ARGS` would run, one per line."""
    done = subprocess.run(['make', '--no-print-directory', '-n'] + list(args), cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_make_voc_fcn8s_runs_the_stage_chain_with_the_solve_options():
    assert '.venv/bin/python -m caffe_fcn.train.chain voc-fcn8s ' in make_dry_run('voc-fcn8s')
    assert '.venv/bin/python -m caffe_fcn.train.chain voc-fcn8s --gpu 0' in \
        make_dry_run('voc-fcn8s', 'SOLVE_ARGS=--gpu 0')


def test_every_registered_variant_is_a_make_target_even_before_setup():
    chains = lambda lines: [line.split()[3] for line in lines if ' -m caffe_fcn.train.chain ' in line]
    assert chains(make_dry_run(*VARIANTS)) == list(VARIANTS)
    # Without .venv the registry is listed by the system's python3: listing it loads no Caffe.
    assert chains(make_dry_run(*VARIANTS, 'PYTHON=/nonexistent/python')) == list(VARIANTS)


def test_trained_stages_are_skipped_and_their_start_weights_no_longer_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, 'RUNS', str(tmp_path / 'runs'))
    monkeypatch.setattr(prerequisites, 'missing_data', lambda variant: {})  # data: see the make test below
    missing = lambda names: prerequisites.missing([get_variant(name) for name in names])
    assert chain.remaining('voc-fcn8s') == ([], ['voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s'])
    assert missing(['voc-fcn8s']) == [
        '%s does not exist (needed to start voc-fcn8s): run `make voc-fcn16s`'
        % (tmp_path / 'runs' / 'voc-fcn16s' / 'voc-fcn16s.caffemodel')]  # outside the repository: shown absolute
    vgg = os.path.join(ROOT, 'weights', 'vgg16-fcn.caffemodel')
    if not os.path.exists(vgg):
        assert missing(['voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s']) == [
            'weights/vgg16-fcn.caffemodel does not exist (needed to start voc-fcn32s): run `make vgg16-fcn`']
    os.makedirs(tmp_path / 'runs' / 'voc-fcn32s')
    (tmp_path / 'runs' / 'voc-fcn32s' / 'voc-fcn32s.caffemodel').write_bytes(b'')
    assert chain.remaining('voc-fcn8s') == (['voc-fcn32s'], ['voc-fcn16s', 'voc-fcn8s'])
    assert missing(['voc-fcn16s', 'voc-fcn8s']) == []
    # With voc-fcn16s trained, voc-fcn32s is not needed any more, trained or not.
    os.rename(tmp_path / 'runs' / 'voc-fcn32s', tmp_path / 'runs' / 'voc-fcn16s')
    os.rename(tmp_path / 'runs' / 'voc-fcn16s' / 'voc-fcn32s.caffemodel', tmp_path / 'runs' / 'voc-fcn16s' / 'voc-fcn16s.caffemodel')
    assert chain.remaining('voc-fcn8s') == (['voc-fcn16s'], ['voc-fcn8s'])
    assert chain.remaining('nyud-fcn32s-color-hha') == ([], ['nyud-fcn32s-color', 'nyud-fcn32s-hha', 'nyud-fcn32s-color-hha'])


def test_make_voc_fcn8s_without_data_stops_at_once_naming_the_fetch_commands():
    needed = [os.path.join(ROOT, p) for p in ('data/sbd/dataset', 'data/pascal/VOC2011', 'runs/voc-fcn32s')]
    if any(os.path.exists(p) for p in needed):
        pytest.skip('this checkout has VOC/SBD data or a voc-fcn32s run: `make voc-fcn8s` would train')
    started = time.time()
    done = subprocess.run(['make', '--no-print-directory', 'voc-fcn8s'], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert 'make voc-fcn8s cannot start' in done.stderr
    assert 'data/sbd/dataset is missing or incomplete (read by voc-fcn32s, voc-fcn16s, voc-fcn8s): run `make data-sbd`' in done.stderr
    assert 'data/pascal/VOC2011 is missing or incomplete' in done.stderr and '`make data-voc`' in done.stderr
    assert time.time() - started < 60
    assert not any(os.path.exists(os.path.join(ROOT, 'runs', v)) for v in ('voc-fcn32s', 'voc-fcn16s', 'voc-fcn8s'))
