"""The package's layout: the pure-data modules load without Caffe (run in a fresh interpreter, so no
other test's imports count), and the README's layout table names every module, one row each."""
import glob
import os
import re
import subprocess
import sys

from caffe_fcn.paths import ROOT

PURE_DATA = ['caffe_fcn.nets.registry', 'caffe_fcn.evaluate.metrics', 'caffe_fcn.evaluate.published',
             'caffe_fcn.data.constants', 'caffe_fcn.data.sources', 'caffe_fcn.train.metrics_log', 'caffe_fcn.cli']


def without_caffe(code):
    """Run `code` in a fresh interpreter, then fail if it imported Caffe."""
    check = code + '\nimport sys\nassert "caffe" not in sys.modules, "Caffe was imported"\n'
    done = subprocess.run([sys.executable, '-c', check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_registry_metrics_published_numbers_and_dataset_constants_import_without_caffe():
    without_caffe('\n'.join('import ' + module for module in PURE_DATA))


def test_listing_the_variants_loads_no_caffe():
    listed = without_caffe('from caffe_fcn.nets.__main__ import main\nassert main(["--list"]) == 0')
    assert len(listed.splitlines()) == 17 and listed.startswith('voc-fcn32s ')  # the release's 15, the paper's 2


def test_comparing_runs_with_the_paper_loads_no_caffe():
    """compare reads logs and published numbers only: it names the upper-bound file through paths, not
    through evaluate.upper_bound, whose data layers import Caffe."""
    without_caffe('import caffe_fcn.evaluate.compare')


def test_the_fresh_interpreter_check_does_see_caffe():
    done = subprocess.run([sys.executable, '-c', 'import caffe_fcn.nets.build, sys; print("caffe" in sys.modules)'],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == 'True'


def package_modules():
    """Every module of caffe_fcn relative to caffe_fcn/, but __init__.py files that hold only a docstring."""
    modules = set()
    for path in glob.glob(os.path.join(ROOT, 'caffe_fcn', '**', '*.py'), recursive=True):
        with open(path) as f:
            text = f.read()
        if path.endswith('__init__.py') and re.fullmatch(r'\s*(""".*?"""\s*)?', text, re.S):
            continue
        modules.add(os.path.relpath(path, os.path.join(ROOT, 'caffe_fcn')))
    return modules


def test_readme_layout_table_has_one_row_for_every_module():
    with open(os.path.join(ROOT, 'README.md')) as f:
        layout = f.read().split('\n## Layout\n', 1)[1].split('| path | what it holds |', 1)[0]
    rows = re.findall(r'^\| `(?:caffe_fcn/)?([\w/]+\.py)` \|', layout, re.M)
    assert len(rows) == len(set(rows))
    assert set(rows) == package_modules()
