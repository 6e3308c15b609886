"""Fetching against an HTTP server on 127.0.0.1 that each test starts and stops: streaming with
progress, resuming a cut transfer with a Range request, rejecting wrong bytes, unpacking fixture
archives into the layout the data layers read."""
import hashlib
import http.server
import io
import os
import re
import socket
import tarfile
import threading
import zipfile

import pytest

from caffe_fcn import paths
from caffe_fcn.backend import import_caffe
from caffe_fcn.data import fetch as fetch_module
from caffe_fcn.data.__main__ import main
from caffe_fcn.data.fetch import FetchError, download, fetch, verifier
from caffe_fcn.data.fixtures import write_siftflow, write_voc
from caffe_fcn.data.sources import DATASETS, WEIGHTS, Checksum, Source
from cli_support import assert_user_error
from data_net import data_net

PAYLOAD = bytes(range(256)) * 1200  # 300 KiB


class Server:
    """Serves `files` (path -> bytes) with Range support. `cut_after`: the first response for each
    path promises the whole file but the connection closes after that many bytes.
    `ranges=False`: Range headers are ignored (200 and the whole file); `ranges='wrong'`: a range
    request is answered 206 but from byte 0."""

    def __init__(self, files, cut_after=None, ranges=True):
        self.files, self.cut_after, self.ranges = files, cut_after, ranges
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = server.files.get(self.path)
                wanted = self.headers.get('Range')
                server.requests.append((self.path, wanted))
                if body is None:
                    self.send_error(404)
                    return
                start = int(re.match(r'bytes=(\d+)-', wanted).group(1)) if wanted and server.ranges else 0
                if start >= len(body) and start:
                    self.send_response(416)
                    self.send_header('Content-Range', 'bytes */%d' % len(body))
                    self.end_headers()
                    return
                partial = bool(start) or bool(wanted and server.ranges == 'wrong')
                start = 0 if server.ranges == 'wrong' else start
                self.send_response(206 if partial else 200)
                if partial:
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(body) - 1, len(body)))
                self.send_header('Content-Length', str(len(body) - start))
                self.end_headers()
                first = sum(1 for p, _ in server.requests if p == self.path) == 1
                end = start + server.cut_after if server.cut_after and first else len(body)
                self.wfile.write(body[start:end])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05})

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.httpd.server_address[1], path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


def checksum(algorithm, data):
    return Checksum(algorithm, hashlib.new(algorithm, data).hexdigest())


@pytest.mark.parametrize('algorithm', ['sha256', 'md5', 'sha1'])
def test_download_streams_with_progress_and_verifies_the_checksum(tmp_path, monkeypatch, algorithm):
    monkeypatch.setattr(fetch_module, 'CHUNK', 16 * 1024)
    dest = str(tmp_path / 'sub' / 'file.bin')
    lines = []
    with Server({'/file.bin': PAYLOAD}) as server:
        download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum(algorithm, PAYLOAD))),
                 'make data-x', log=lines.append)
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD
    assert not os.path.exists(dest + '.part')
    percents = [int(m.group(1)) for m in (re.search(r'\((\d+)%\)', line) for line in lines) if m]
    assert percents == sorted(percents) and percents[-1] == 100 and len(percents) >= 5


def test_cut_transfer_keeps_the_part_and_the_next_run_resumes_with_range(tmp_path):
    dest = str(tmp_path / 'file.bin')
    verify = verifier(Source('x', '', '', checksum('sha256', PAYLOAD)))
    with Server({'/file.bin': PAYLOAD}, cut_after=100_000) as server:
        with pytest.raises(FetchError, match=r'interrupted .*kept in .*file\.bin\.part: run `make data-x` again to resume'):
            download(server.url('/file.bin'), dest, verify, 'make data-x', log=lambda line: None, retries=0)
        assert os.path.getsize(dest + '.part') == 100_000 and not os.path.exists(dest)
        download(server.url('/file.bin'), dest, verify, 'make data-x', log=lambda line: None, retries=0)
        assert server.requests == [('/file.bin', None), ('/file.bin', 'bytes=100000-')]
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD


def test_cut_transfer_is_retried_and_resumed_within_one_run(tmp_path):
    dest = str(tmp_path / 'file.bin')
    lines = []
    with Server({'/file.bin': PAYLOAD}, cut_after=50_000) as server:
        download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum('md5', PAYLOAD))),
                 'make data-x', log=lines.append, retries=2)
        assert server.requests == [('/file.bin', None), ('/file.bin', 'bytes=50000-')]
    assert any(line.startswith('interrupted') for line in lines)
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(tmp_path):
    dest = str(tmp_path / 'file.bin')
    with open(dest + '.part', 'wb') as f:
        f.write(b'stale bytes that must not be kept')
    with Server({'/file.bin': PAYLOAD}, ranges=False) as server:
        download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum('sha1', PAYLOAD))),
                 'make data-x', log=lambda line: None)
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD


def test_part_already_complete_is_verified_and_renamed_after_a_416(tmp_path):
    dest = str(tmp_path / 'file.bin')
    with open(dest + '.part', 'wb') as f:
        f.write(PAYLOAD)
    with Server({'/file.bin': PAYLOAD}) as server:
        download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum('sha256', PAYLOAD))),
                 'make data-x', log=lambda line: None)
        assert server.requests == [('/file.bin', 'bytes=%d-' % len(PAYLOAD))]
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD


def test_server_resuming_at_the_wrong_offset_is_not_appended_but_restarted(tmp_path):
    dest = str(tmp_path / 'file.bin')
    with open(dest + '.part', 'wb') as f:
        f.write(PAYLOAD[:1000])
    with Server({'/file.bin': PAYLOAD}, ranges='wrong') as server:
        download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum('sha1', PAYLOAD))),
                 'make data-x', log=lambda line: None, retries=1)
        assert server.requests == [('/file.bin', 'bytes=1000-'), ('/file.bin', None)]
    with open(dest, 'rb') as f:
        assert f.read() == PAYLOAD


def test_wrong_bytes_are_rejected_and_leave_no_file(tmp_path):
    dest = str(tmp_path / 'file.bin')
    wrong = PAYLOAD[:-1] + b'!'
    with Server({'/file.bin': wrong}) as server:
        with pytest.raises(FetchError) as err:
            download(server.url('/file.bin'), dest, verifier(Source('x', '', '', checksum('sha256', PAYLOAD))),
                     'make data-x', log=lambda line: None)
    message = str(err.value)
    assert 'does not match its published sha256' in message and hashlib.sha256(wrong).hexdigest() in message
    assert 'the download was deleted' in message and '\n' not in message
    assert os.listdir(tmp_path) == []


def closed_port_url():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    return 'http://127.0.0.1:%d/VOCtrainval.tar' % port


def test_unreachable_server_is_one_line_naming_the_url_and_the_manual_alternative(tmp_path):
    url = closed_port_url()
    dest = str(tmp_path / 'downloads' / 'VOCtrainval.tar')
    with pytest.raises(FetchError) as err:
        download(url, dest, lambda path: None, 'make data-voc', log=lambda line: None)
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith('cannot reach %s' % url)
    assert 'Download it by other means and put it at %s, then run `make data-voc` again' % dest in message
    assert not os.path.exists(tmp_path / 'downloads')


def test_cli_prints_one_error_line_and_exits_2_when_offline(tmp_path, monkeypatch, capsys):
    offline = Source('voc2011', closed_port_url(), 'data/pascal/downloads/VOCtrainval.tar', marker=('JPEGImages',),
                     place=(('', 'data/pascal/VOC2011'),))
    monkeypatch.setitem(DATASETS, 'voc', (offline,))
    monkeypatch.setattr(paths, 'ROOT', str(tmp_path))
    assert_user_error(main(['fetch', 'voc']), capsys, 'python -m caffe_fcn.data', '^cannot reach http://127.0.0.1:')


def tar_bytes(folder, arcname, mode='w'):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        tar.add(folder, arcname=arcname)
    return buffer.getvalue()


def test_voc_archive_is_verified_unpacked_placed_and_read_by_the_voc_layer(tmp_path):
    fixture = write_voc(tmp_path / 'made' / 'VOC2011', {'train': 2, 'val': 2})
    archive = tar_bytes(fixture.root, 'TrainVal/VOCdevkit/VOC2011')
    root = tmp_path / 'repo'
    (root / 'data' / 'pascal').mkdir(parents=True)
    (root / 'data' / 'pascal' / 'seg11valid.txt').write_text('\n'.join(fixture.splits['val']) + '\n')
    with Server({'/VOC.tar': archive}) as server:
        source = Source('voc2011', server.url('/VOC.tar'), 'data/pascal/downloads/VOC.tar',
                        checksum=checksum('md5', archive),
                        marker=('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'),
                        place=(('', 'data/pascal/VOC2011'),),
                        copies=(('data/pascal/seg11valid.txt',
                                 'data/pascal/VOC2011/ImageSets/Segmentation/seg11valid.txt'),))
        fetch(source, 'make data-voc', root=str(root), log=lambda line: None)
        lines = []
        fetch(source, 'make data-voc', root=str(root), log=lines.append)  # a second run finds it in place
        assert len(server.requests) == 1
    assert lines[0].startswith('voc2011: already in place')
    voc_dir = root / 'data' / 'pascal' / 'VOC2011'
    assert sorted(os.listdir(root / 'data' / 'pascal')) == ['VOC2011', 'downloads', 'seg11valid.txt']
    net = data_net(tmp_path, 'voc', {'voc_dir': str(voc_dir), 'split': 'seg11valid'})
    net.forward()
    assert net.layers[0].current_id == fixture.splits['val'][0]


def test_zip_without_checksum_is_checked_by_reading_it_and_its_parts_are_placed(tmp_path):
    fixture = write_siftflow(tmp_path / 'made' / 'SiftFlowDataset', {'test': 2})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as z:
        for folder, _, files in os.walk(fixture.root):
            for name in files:
                path = os.path.join(folder, name)
                z.write(path, os.path.join('SiftFlowDataset', os.path.relpath(path, fixture.root)))
    archive = buffer.getvalue()
    root = tmp_path / 'repo'
    with Server({'/good.zip': archive, '/cut.zip': archive[:len(archive) // 2]}) as server:
        def source(path):
            folders = ('Images', 'SemanticLabels', 'GeoLabels')
            return Source('siftflow', server.url(path), 'data/sift-flow/downloads/SiftFlowDataset.zip',
                          marker=folders, place=tuple((f, 'data/sift-flow/' + f) for f in folders))
        with pytest.raises(FetchError, match='not a readable tar or zip archive.*the download was deleted'):
            fetch(source('/cut.zip'), 'make data-siftflow', root=str(root), log=lambda line: None)
        assert os.listdir(root / 'data' / 'sift-flow' / 'downloads') == []
        fetch(source('/good.zip'), 'make data-siftflow', root=str(root), log=lambda line: None)
    sift_dir = root / 'data' / 'sift-flow'
    for split in ('test',):
        (sift_dir / (split + '.txt')).write_text('\n'.join(fixture.splits[split]))
    net = data_net(tmp_path, 'siftflow', {'siftflow_dir': str(sift_dir), 'split': 'test'})
    net.forward()
    assert net.layers[0].current_id == fixture.splits['test'][0]
    assert not any(name.startswith('.unpack') for name in os.listdir(sift_dir / 'downloads'))


def test_archive_member_escaping_its_folder_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        info = tarfile.TarInfo('../escaped.txt')
        info.size = 3
        tar.addfile(info, io.BytesIO(b'bad'))
    archive = buffer.getvalue()
    root = tmp_path / 'repo'
    with Server({'/evil.tgz': archive}) as server:
        source = Source('evil', server.url('/evil.tgz'), 'data/evil/downloads/evil.tgz', checksum=checksum('md5', archive),
                        marker=('x',), place=(('x', 'data/evil/x'),))
        with pytest.raises(FetchError, match='cannot unpack'):
            fetch(source, 'make data-evil', root=str(root), log=lambda line: None)
    assert not (root / 'data' / 'evil' / 'escaped.txt').exists()


def test_wrong_file_placed_by_hand_is_kept_and_named(tmp_path):
    root = tmp_path / 'repo'
    placed = root / 'data' / 'sbd' / 'downloads' / 'benchmark.tgz'
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b'not the archive')
    source = Source('sbd', closed_port_url(), 'data/sbd/downloads/benchmark.tgz', checksum=checksum('md5', PAYLOAD),
                    marker=('cls',), place=(('', 'data/sbd/dataset'),))
    with pytest.raises(FetchError, match=r'benchmark\.tgz does not match its published md5.*delete or replace that file'):
        fetch(source, 'make data-sbd', root=str(root), log=lambda line: None)
    assert placed.read_bytes() == b'not the archive'


def test_half_installed_dataset_is_refused(tmp_path):
    root = tmp_path / 'repo'
    (root / 'data' / 'nyud' / 'data').mkdir(parents=True)
    source = Source('nyud', closed_port_url(), 'data/nyud/downloads/nyud.tar.gz', marker=('data', 'segmentation'),
                    place=(('data', 'data/nyud/data'), ('segmentation', 'data/nyud/segmentation')))
    with pytest.raises(FetchError, match=r'data/nyud/data exists but .*data/nyud/segmentation does not'):
        fetch(source, 'make data-nyud', root=str(root), log=lambda line: None)


def caffemodel_bytes(*layer_names):
    caffe_pb2 = import_caffe().proto.caffe_pb2
    net = caffe_pb2.NetParameter(name='toy')
    for name in layer_names:  # each with a 1x1x1x1 weight, as every layer a check names has parameters
        net.layer.add(name=name, type='Convolution').blobs.add(data=[0.5]).shape.dim.extend([1, 1, 1, 1])
    return net.SerializeToString()


def test_caffemodel_without_checksum_must_parse_and_hold_its_layers(tmp_path):
    good = caffemodel_bytes('conv1_1', 'fc7', 'score_fr')
    lacking = caffemodel_bytes('conv1_1', 'fc7')
    with Server({'/good.caffemodel': good, '/lacking.caffemodel': lacking, '/html': b'<html>moved</html>'}) as server:
        def source(path):
            return Source('fcn32s', server.url(path), 'weights/fcn32s.caffemodel', layers=('conv1_1', 'fc7', 'score_fr'))
        with pytest.raises(FetchError, match='lacks the layer.*score_fr'):
            fetch(source('/lacking.caffemodel'), 'make weights-fcn32s', root=str(tmp_path), log=lambda line: None)
        with pytest.raises(FetchError, match='is not a Caffe model'):
            fetch(source('/html'), 'make weights-fcn32s', root=str(tmp_path), log=lambda line: None)
        assert os.listdir(tmp_path / 'weights') == []
        fetch(source('/good.caffemodel'), 'make weights-fcn32s', root=str(tmp_path), log=lambda line: None)
    assert (tmp_path / 'weights' / 'fcn32s.caffemodel').read_bytes() == good


def test_sources_table_checksums_are_well_formed_and_every_entry_has_a_make_target():
    lengths = {'md5': 32, 'sha1': 40, 'sha256': 64}
    for source in [s for group in DATASETS.values() for s in group] + list(WEIGHTS.values()):
        if source.checksum:
            assert len(source.checksum.hexdigest) == lengths[source.checksum.algorithm], source.name
            assert set(source.checksum.hexdigest) <= set('0123456789abcdef')
        else:
            assert source.is_archive or source.layers, '%s has no check at all' % source.name
    with open(os.path.join(paths.ROOT, 'Makefile')) as f:
        makefile = f.read()
    for name in DATASETS:
        assert re.search(r'\bdata-%s\b' % name, makefile), name
    for name in WEIGHTS:
        assert re.search(r'\bweights-%s\b' % name, makefile), name


def test_make_weights_googlenet_fetches_and_checks_the_readmes_sha1(tmp_path, monkeypatch, capsys):
    """`make weights-googlenet` (python -m caffe_fcn.data weights googlenet) against a local server:
    bytes that do not hash to the SHA-1 of Caffe's models/bvlc_googlenet/readme.md are refused and
    deleted; once they do (the checksum swapped for the fixture's), the file lands in weights/."""
    import dataclasses
    source = WEIGHTS['googlenet']
    assert source.checksum == Checksum('sha1', '405fc5acd08a3bb12de8ee5e23a96bec22f08204')
    assert (source.url, source.download_to) == ('http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel',
                                                'weights/bvlc_googlenet.caffemodel')
    monkeypatch.setattr(paths, 'ROOT', str(tmp_path))
    payload = caffemodel_bytes('conv1/7x7_s2', 'inception_5b/1x1', 'loss3/classifier')
    with Server({'/bvlc_googlenet.caffemodel': payload}) as server:
        monkeypatch.setitem(WEIGHTS, 'googlenet', dataclasses.replace(source, url=server.url('/bvlc_googlenet.caffemodel')))
        assert_user_error(main(['weights', 'googlenet']), capsys, 'python -m caffe_fcn.data',
                          'does not match its published sha1 .*expected 405fc5acd08a3bb12de8ee5e23a96bec22f08204')
        assert not os.path.exists(tmp_path / 'weights' / 'bvlc_googlenet.caffemodel')
        monkeypatch.setitem(WEIGHTS, 'googlenet', dataclasses.replace(
            WEIGHTS['googlenet'], checksum=checksum('sha1', payload)))
        assert main(['weights', 'googlenet']) == 0
    assert (tmp_path / 'weights' / 'bvlc_googlenet.caffemodel').read_bytes() == payload
    monkeypatch.setitem(WEIGHTS, 'googlenet', dataclasses.replace(source, url=closed_port_url()))
    (tmp_path / 'weights' / 'bvlc_googlenet.caffemodel').unlink()
    assert_user_error(main(['weights', 'googlenet']), capsys, 'python -m caffe_fcn.data',
                      'cannot reach .*put it at %s' % re.escape(str(tmp_path / 'weights' / 'bvlc_googlenet.caffemodel')))
