"""Downloading datasets and weights: streamed with progress lines, resumed, verified, then unpacked.

A download is written to `<file>.part`. An interrupted transfer keeps the part and is retried (and,
on a later run, resumed) with an HTTP Range request from where it stopped; a server that ignores the
range restarts it from zero. The finished part is verified (published checksum, or its content
where none is published: see sources.py) and only then renamed into place, so a final file is
always a verified one. A part that fails verification is deleted, with a message saying so.

Archives unpack into a scratch folder beside the download; the dataset's folder is found inside by
its layout and moved into place (a rename on the same disk). Nothing that exists is overwritten:
a destination that is already there counts as fetched.

Every failure is a FetchError whose message is one line naming the URL or file and what to do.
"""
import hashlib
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from http.client import HTTPException

from caffe_fcn import atomic, paths
from caffe_fcn.data.sources import DATASETS, WEIGHTS
from caffe_fcn.errors import UserError
from caffe_fcn.progress import clock_text

CHUNK = 1 << 20


class FetchError(UserError, RuntimeError):
    """A download, check or unpack failed; the message is one line saying what to do."""


class _Interrupted(Exception):
    pass


def _one_line(err):
    return ' '.join(str(err).split())


def _size(n):
    return '%.1f MiB' % (n / float(1 << 20))


class _Progress:
    """Prints a line at every 5% (or every 64 MiB when the size is unknown) and at the end."""

    def __init__(self, name, done, total, log):
        self.name, self.total, self.log = name, total, log
        self.start_bytes, self.start_time = done, time.monotonic()
        self.last_mark = self._mark(done)

    def _mark(self, done):
        return done * 20 // self.total if self.total else done >> 26

    def update(self, done, final=False):
        mark = self._mark(done)
        if mark == self.last_mark and not final:
            return
        self.last_mark = mark
        rate = (done - self.start_bytes) / max(time.monotonic() - self.start_time, 1e-6)
        of = ' of %s (%d%%)' % (_size(self.total), 100 * done // self.total) if self.total else ''
        eta = ', ETA %s' % clock_text((self.total - done) / rate) if self.total and rate > 0 else ''
        self.log('  %s: %s%s, %s/s%s' % (self.name, _size(done), of, _size(rate), eta))


def _content_range_start(value):
    """The first byte of a 'bytes START-END/TOTAL' Content-Range header, or None."""
    try:
        return int(value.split()[1].split('-')[0])
    except (AttributeError, IndexError, ValueError):
        return None


def _stream(url, part, log, timeout):
    """Append the rest of `url` to `part`. Raises _Interrupted if the transfer stops early."""
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={'Range': 'bytes=%d-' % have} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            return  # the part already holds the whole file
        raise FetchError('downloading %s failed: HTTP %d %s' % (url, err.code, err.reason)) from err
    except (urllib.error.URLError, OSError, HTTPException) as err:
        raise ConnectionError(getattr(err, 'reason', err)) from err
    with response:
        if response.status == 206:
            start = _content_range_start(response.headers.get('Content-Range'))
            if start != have:
                if os.path.exists(part):
                    os.remove(part)
                raise _Interrupted('asked to resume at byte %d, the server sent from %s; the part was '
                                   'deleted' % (have, start))
            log('resuming %s at %s' % (os.path.basename(part)[:-5], _size(have)))
            mode = 'ab'
        else:
            if have:
                log('the server did not resume %s: downloading it from the start' % url)
            have, mode = 0, 'wb'
        length = response.headers.get('Content-Length')
        total = have + int(length) if length and length.isdigit() else None
        progress = _Progress(os.path.basename(part)[:-5], have, total, log)
        os.makedirs(os.path.dirname(part), exist_ok=True)
        with open(part, mode) as f:
            try:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    f.write(block)
                    have += len(block)
                    progress.update(have)
            except (OSError, HTTPException) as err:
                raise _Interrupted('%s after %s' % (err, _size(have))) from err
    if total is not None and have < total:
        raise _Interrupted('connection closed at %s of %s' % (_size(have), _size(total)))
    progress.update(have, final=True)


def download(url, dest, verify, rerun, log=print, retries=3, timeout=60):
    """Download `url` to `dest` through `dest`.part, resuming; `verify(path)` must pass (it raises
    FetchError) before the part is renamed to `dest`. `rerun` is the command that repeats this."""
    part = dest + '.part'
    log('downloading %s -> %s' % (url, dest))
    for attempt in range(retries + 1):
        try:
            _stream(url, part, log, timeout)
            break
        except ConnectionError as err:
            raise FetchError('cannot reach %s (%s). Download it by other means and put it at %s, then '
                             'run `%s` again' % (url, _one_line(err), dest, rerun)) from None
        except _Interrupted as err:
            kept = os.path.getsize(part) if os.path.exists(part) else 0
            if attempt == retries:
                raise FetchError('download of %s interrupted (%s); %s kept in %s: run `%s` again to '
                                 'resume' % (url, _one_line(err), _size(kept), part, rerun)) from None
            log('interrupted (%s); retrying from %s' % (err, _size(kept)))
    try:
        verify(part)
    except FetchError as err:
        os.remove(part)
        raise FetchError('%s; the download was deleted: run `%s` again to retry, or fetch %s by hand'
                         % (err, rerun, url)) from None
    atomic.rename_into_place(part, dest)


# ---- verification ----------------------------------------------------------------------------

def verify_checksum(path, checksum):
    digest = hashlib.new(checksum.algorithm)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(CHUNK), b''):
            digest.update(block)
    if digest.hexdigest() != checksum.hexdigest.lower():
        raise FetchError('%s does not match its published %s (got %s, expected %s)'
                         % (path, checksum.algorithm, digest.hexdigest(), checksum.hexdigest))


def verify_archive(path):
    """Read every member of a tar or zip archive: a truncated or corrupt file fails its CRCs."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            if bad is not None:
                raise FetchError('%s is corrupt: member %s fails its CRC' % (path, bad))
            return
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile():
                    source = archive.extractfile(member)
                    while source.read(CHUNK):
                        pass
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise FetchError('%s is not a readable tar or zip archive (truncated or corrupt?): %s'
                         % (path, _one_line(err))) from err


def verify_caffemodel(path, layers):
    """The file must read as Caffe weights (caffe_fcn.backend.weights: either layer format) holding `layers`."""
    from caffe_fcn.backend.weights import WeightsError, layer_names
    try:
        names = layer_names(path)
    except WeightsError as err:
        raise FetchError('%s is not a Caffe model: %s' % (path, _one_line(err))) from err
    missing = [name for name in layers if name not in names]
    if missing:
        raise FetchError('%s lacks the layer(s) %s that this model must hold' % (path, ', '.join(missing)))


def verifier(source):
    """The check a download of `source` must pass."""
    if source.checksum is not None:
        return lambda path: verify_checksum(path, source.checksum)
    if source.is_archive:
        return verify_archive
    return lambda path: verify_caffemodel(path, source.layers)


# ---- unpacking -------------------------------------------------------------------------------

def _extract(archive, folder):
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(folder)
        else:
            with tarfile.open(archive) as t:
                t.extractall(folder, filter='data')
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise FetchError('cannot unpack %s: %s' % (archive, _one_line(err))) from err


def _find_root(folder, marker):
    """The first folder (top-down) under `folder` that holds every path in `marker`."""
    for current, _, _ in os.walk(folder):
        if all(os.path.exists(os.path.join(current, m)) for m in marker):
            return current
    return None


def unpack(archive, source, root, log=print):
    """Extract `archive` and move the parts listed in `source.place` to their destinations."""
    scratch = os.path.join(os.path.dirname(archive), '.unpack-' + source.name)
    if os.path.exists(scratch):
        log('removing the scratch folder of an unfinished unpack: %s' % scratch)
        shutil.rmtree(scratch)
    os.makedirs(scratch)
    log('unpacking %s' % archive)
    _extract(archive, scratch)
    top = _find_root(scratch, source.marker)
    if top is None:
        raise FetchError('%s does not hold the expected layout (a folder with %s); the unpacked files '
                         'are left in %s' % (archive, ', '.join(source.marker), scratch))
    for inner, dest in source.place:
        dest = os.path.join(root, dest)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.rename(os.path.join(top, inner) if inner else top, dest)
        log('placed %s' % dest)
    shutil.rmtree(scratch)


def _same_file(a, b):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def copy_files(source, root, log=print):
    for src, dest in source.copies:
        src, dest = os.path.join(root, src), os.path.join(root, dest)
        if os.path.exists(dest):
            if not _same_file(src, dest):
                raise FetchError('%s differs from %s: not overwriting it; compare them and remove one'
                                 % (dest, src))
            continue
        atomic.copy_file(src, dest)
        log('copied %s -> %s' % (src, dest))


# ---- one source, and the make targets ---------------------------------------------------------

def fetch(source, rerun, root=None, log=print, retries=3):
    """Download, verify and put `source` in place under `root` (default: the repository)."""
    root = root or paths.ROOT
    destinations = [os.path.join(root, d) for d in source.destinations]
    present = [d for d in destinations if os.path.exists(d)]
    if present and len(present) < len(destinations):
        raise FetchError('%s: %s exists but %s does not (an interrupted or manual install?); move '
                         'what exists aside and run `%s` again'
                         % (source.name, ', '.join(present), ', '.join(set(destinations) - set(present)), rerun))
    if present:
        log('%s: already in place (%s)' % (source.name, ', '.join(present)))
    else:
        download_path = os.path.join(root, source.download_to)
        for destination in [download_path] + destinations:
            atomic.check_folder(os.path.dirname(destination), 'the download folder')
        check = verifier(source)
        if os.path.exists(download_path):
            log('%s: checking the download already at %s' % (source.name, download_path))
            try:
                check(download_path)
            except FetchError as err:
                raise FetchError('%s: delete or replace that file and run `%s` again' % (err, rerun)) from None
        else:
            download(source.url, download_path, check, rerun, log=log, retries=retries)
        if source.is_archive:
            unpack(download_path, source, root, log=log)
    copy_files(source, root, log=log)


def fetch_dataset(name, root=None, log=print):
    for source in _lookup(DATASETS, name, 'dataset'):
        fetch(source, 'make data-%s' % name, root=root, log=log)


def fetch_weights(name, root=None, log=print):
    fetch(_lookup(WEIGHTS, name, 'weights'), 'make weights-%s' % name, root=root, log=log)


def _lookup(table, name, what):
    if name not in table:
        raise FetchError('unknown %s %r; known: %s' % (what, name, ', '.join(sorted(table))))
    return table[name]
