"""The checked-in nets/ and solvers/ are what the generators emit now; writing is guarded."""
import os

import pytest

from caffe_fcn.errors import OutputExists
from caffe_fcn.nets import generate
from caffe_fcn.nets.__main__ import main
from caffe_fcn.nets.registry import VARIANTS, get_variant
from caffe_fcn.paths import ROOT


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_checked_in_files_equal_the_generators_output_byte_for_byte(name):
    for path, text in generate.rendered_files(get_variant(name)).items():
        with open(os.path.join(ROOT, path), 'rb') as f:
            assert f.read() == text.encode(), '%s is out of date: run `make nets`' % path


def test_no_stray_files_in_nets_and_solvers():
    expected = {path for v in VARIANTS.values() for path in generate.rendered_files(v)}
    found = {os.path.relpath(os.path.join(d, f), ROOT)
             for top in ('nets', 'solvers') for d, _, files in os.walk(os.path.join(ROOT, top))
             for f in files}
    assert found == expected


def test_write_reports_new_unchanged_updated(tmp_path):
    v = get_variant('voc-fcn32s')
    assert {s for _, s in generate.write([v], root=tmp_path)} == {'new'}
    assert {s for _, s in generate.write([v], root=tmp_path)} == {'unchanged'}
    deploy = tmp_path / 'nets/voc-fcn32s/deploy.prototxt'
    deploy.write_text(deploy.read_text() + '# an edit\n')
    assert dict(generate.write([v], root=tmp_path))['nets/voc-fcn32s/deploy.prototxt'] == 'updated'
    assert generate.out_of_date([v], root=tmp_path) == []


def test_write_refuses_to_overwrite_a_file_it_did_not_generate(tmp_path):
    v = get_variant('voc-fcn32s')
    solver = tmp_path / 'solvers/voc-fcn32s.prototxt'
    solver.parent.mkdir()
    solver.write_text('base_lr: 1e-3  # my own experiment\n')
    with pytest.raises(OutputExists, match='voc-fcn32s.prototxt exists and was not generated'):
        generate.write([v], root=tmp_path)
    assert solver.read_text() == 'base_lr: 1e-3  # my own experiment\n'
    assert not (tmp_path / 'nets').exists()


def test_cli_lists_prints_and_checks(capsys):
    assert main(['--list']) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(VARIANTS)
    assert main(['voc-fcn8s', '--net', 'deploy']) == 0
    assert capsys.readouterr().out == generate.render_net(get_variant('voc-fcn8s'), 'deploy')
    assert main(['siftflow-fcn8s', '--net', 'solver']) == 0
    assert capsys.readouterr().out == generate.render_solver(get_variant('siftflow-fcn8s'))
    assert main(['--check']) == 0


def test_cli_names_unknown_variants_and_nets(capsys):
    assert main(['voc-fcn4s']) == 2
    assert "unknown variant 'voc-fcn4s'" in capsys.readouterr().err
    assert main(['voc-fcn8s', '--net', 'trainval']) == 2
    assert "has no net 'trainval'; its nets are train, val, deploy" in capsys.readouterr().err
