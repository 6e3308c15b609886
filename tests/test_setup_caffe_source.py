"""setup/caffe_source.py: where `make setup` gets BVLC Caffe's source and how it knows it is the right
one. Places are served by an HTTP server on 127.0.0.1; the pinned hashes are checked against the
tarball `make setup` downloaded from Debian (kept in the build cache)."""
import functools
import hashlib
import http.server
import importlib.util
import io
import os
import tarfile
import threading

import pytest

from caffe_fcn import paths
from caffe_fcn.backend import import_caffe

spec = importlib.util.spec_from_file_location('caffe_source', os.path.join(paths.ROOT, 'setup', 'caffe_source.py'))
caffe_source = importlib.util.module_from_spec(spec)
spec.loader.exec_module(caffe_source)


def make_tarball(files, top=None):
    """A .tar.gz of {path: bytes}, under the folder `top` if given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name if top is None else '%s/%s' % (top, name))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


SOURCE = {'CMakeLists.txt': b'project(Caffe)\n', 'src/caffe/net.cpp': b'// net\n',
          'README.md': b'# 99bd997\n', 'scripts/cpp_lint.py': b'# lint\n'}


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)


def test_tree_hash_ignores_the_top_folder_and_the_two_files_the_commits_differ_in(tmp_path):
    debian = write(tmp_path / 'debian.tar.gz', make_tarball(SOURCE))
    github = dict(SOURCE, **{'README.md': b'# master\n', 'scripts/cpp_lint.py': b'# newer lint\n'})
    github = write(tmp_path / 'github.tar.gz', make_tarball(github, top='caffe-9b89154'))
    changed = write(tmp_path / 'changed.tar.gz', make_tarball(dict(SOURCE, **{'src/caffe/net.cpp': b'// x\n'})))
    expected = hashlib.sha256(''.join(sorted(
        '%s %s\n' % (hashlib.sha256(data).hexdigest(), name)
        for name, data in SOURCE.items() if name not in ('README.md', 'scripts/cpp_lint.py'))).encode()).hexdigest()
    assert caffe_source.tree_sha256(debian) == expected
    assert caffe_source.tree_sha256(github) == expected
    assert caffe_source.tree_sha256(changed) != expected


class StaticServer:
    """Serves the files of one folder on 127.0.0.1 (404 for anything else)."""

    def __init__(self, folder):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
        handler = functools.partial(Quiet, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05})

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.httpd.server_address[1], name)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def url_places(server, names):
    return [(server.url(n), lambda workdir, url=server.url(n): caffe_source.via_url(url, workdir)) for n in names]


def test_fetch_skips_missing_and_corrupt_places_and_keeps_the_first_that_verifies(tmp_path):
    good = make_tarball(SOURCE)
    served = tmp_path / 'served'
    served.mkdir()
    write(served / 'corrupt.tar.gz', make_tarball(dict(SOURCE, **{'src/caffe/net.cpp': b'// changed\n'})))
    write(served / caffe_source.TARBALL, good)
    sha = hashlib.sha256(good).hexdigest()
    tree = caffe_source.tree_sha256(str(served / caffe_source.TARBALL))
    log = io.StringIO()
    with StaticServer(served) as server:
        dest = caffe_source.fetch(str(tmp_path / 'cache'), url_places(server, ['missing.tar.gz', 'corrupt.tar.gz',
                                  caffe_source.TARBALL]), sha256=sha, tree=tree, log=log)
    assert dest == str(tmp_path / 'cache' / caffe_source.TARBALL)
    with open(dest, 'rb') as f:
        assert f.read() == good
    assert os.listdir(tmp_path / 'cache') == [caffe_source.TARBALL]  # no temporary folder left
    assert server.url(caffe_source.TARBALL) in log.getvalue()


def test_fetch_accepts_a_github_shaped_tarball_by_its_tree_hash(tmp_path):
    debian = make_tarball(SOURCE)
    github = make_tarball(dict(SOURCE, **{'README.md': b'# master\n'}), top='caffe-9b89154')
    served = tmp_path / 'served'
    served.mkdir()
    write(served / 'github.tar.gz', github)
    tree = caffe_source.tree_sha256(write(tmp_path / 'debian.tar.gz', debian))
    with StaticServer(served) as server:
        dest = caffe_source.fetch(str(tmp_path / 'cache'), url_places(server, ['github.tar.gz']),
                                  sha256=hashlib.sha256(debian).hexdigest(), tree=tree, log=io.StringIO())
    assert caffe_source.tree_sha256(dest) == tree


def test_when_no_place_answers_one_line_says_what_was_tried_and_what_to_do(tmp_path):
    served = tmp_path / 'served'
    served.mkdir()
    with StaticServer(served) as server:
        with pytest.raises(caffe_source.SourceUnavailable) as err:
            caffe_source.fetch(str(tmp_path / 'cache'), url_places(server, ['a.tar.gz']), log=io.StringIO())
    message = str(err.value)
    assert '\n' not in message
    assert server.url('a.tar.gz') in message and 'HTTP Error 404' in message
    assert os.path.join(str(tmp_path / 'cache'), caffe_source.TARBALL) in message and 'make setup' in message
    assert os.listdir(tmp_path / 'cache') == []


def downloaded_tarball():
    """The tarball `make setup` fetched: <cache>/source/, beside the cache entry Caffe came from."""
    caffe = import_caffe()
    entry_file = os.path.join(os.path.dirname(caffe.__file__), 'CACHE_ENTRY')
    if not os.path.exists(entry_file):
        pytest.skip('this Caffe was not installed by make setup (no CACHE_ENTRY): no downloaded source to check')
    with open(entry_file) as f:
        cache = os.path.dirname(f.read().strip())
    return os.path.join(cache, 'source', caffe_source.TARBALL)


def test_debians_tarball_has_the_pinned_sha256_and_tree_hash():
    path = downloaded_tarball()
    assert os.path.getsize(path) == 8518844
    assert caffe_source.sha256_file(path) == caffe_source.SHA256
    assert caffe_source.tree_sha256(path) == caffe_source.TREE_SHA256


def test_source_tree_is_bvlc_master_not_a_fork():
    """BVLC's 2017-2018 layers (Clip, Swish) are there, SSD's (PriorBox, DetectionOutput) are not, and
    io.cpp reads protos up to INT_MAX (the fork built before capped them at 512 MB)."""
    with tarfile.open(downloaded_tarball()) as tar:
        names = set(tar.getnames())
        io_cpp = tar.extractfile('src/caffe/util/io.cpp').read().decode()
    assert {'src/caffe/layers/clip_layer.cpp', 'src/caffe/layers/swish_layer.cpp'} <= names
    assert not any('prior_box' in n or 'detection_output' in n for n in names)
    assert 'const int kProtoReadBytesLimit = INT_MAX;' in io_cpp
