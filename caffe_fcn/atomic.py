"""Write-then-rename: a file the project writes appears under its final name only once it is whole.

Every writer writes to a hidden temporary name beside the target (`.<name>.<random>.partial`),
flushes it to disk and renames it into place; a rename within one folder is atomic, so a reader, a
resume or a `make` that runs after a kill, a crash or a full disk finds either the old state or the
complete new file, never half of one. A temporary file is removed when its writer fails; one left by
a killed process keeps its `.partial` suffix, is never read as a result, and may be deleted.

Files that Caffe itself writes (caffemodels, snapshots) go through the same names, and since Caffe
aborts the whole process when a write fails, `require_space` checks the free space first.
"""
import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager

from caffe_fcn.errors import UserError

PARTIAL = '.partial'
#: Free space kept in hand beyond a write's estimated size.
SPACE_MARGIN = 1 << 20


class WriteError(UserError, OSError):
    """An output that cannot be written: a missing or read-only folder, a full disk, a file in the way."""


def is_partial(name):
    """Whether a file or folder name is a temporary one of an unfinished write."""
    return os.path.basename(name).endswith(PARTIAL)


def temporary_beside(path, folder=False):
    """A new hidden temporary file (or folder) in the folder of `path`, named after it."""
    parent = os.path.dirname(os.path.abspath(path))
    prefix = '.%s.' % os.path.basename(path)
    try:
        if folder:
            return tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=PARTIAL)
        handle, temp = tempfile.mkstemp(dir=parent, prefix=prefix, suffix=PARTIAL)
        os.close(handle)
        return temp
    except OSError as err:
        raise WriteError(_cannot_write(path, err)) from err


@contextmanager
def writing(path, replace=False):
    """Yield a temporary path beside `path` for the caller to write; when the block ends without an
    error the file is flushed to disk and renamed to `path`. An existing `path` is an error unless
    `replace`. The folder must exist (check_folder says why it cannot be written)."""
    path = os.path.abspath(path)
    if not replace:
        refuse_existing(path)
    temp = temporary_beside(path)
    try:
        yield temp
        rename_into_place(temp, path, replace)
    except BaseException:
        remove(temp)
        raise


def rename_into_place(temp, path, replace=False):
    """Flush `temp` (a file or a folder of files) to disk and rename it to `path`."""
    try:
        _fsync_tree(temp)
        if not replace:
            refuse_existing(path)
        os.replace(temp, path)
        _fsync(os.path.dirname(os.path.abspath(path)))
    except OSError as err:
        raise WriteError(_cannot_write(path, err)) from err


def write_bytes(path, data, replace=False):
    with writing(path, replace) as temp:
        _write(temp, 'wb', data, path)
    return path


def write_text(path, text, replace=False):
    with writing(path, replace) as temp:
        _write(temp, 'w', text, path)
    return path


def write_json(path, value, replace=False):
    return write_text(path, json.dumps(value, indent=1) + '\n', replace)


def copy_file(source, path, replace=False):
    with writing(path, replace) as temp:
        try:
            shutil.copyfile(source, temp)
        except OSError as err:
            raise WriteError(_cannot_write(path, err)) from err
    return path


def refuse_existing(path):
    if os.path.lexists(path):
        raise WriteError('%s already exists; not replacing it: move it away or choose another output' % path)


def remove(path):
    """Remove a temporary file or folder, if it is there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def leftovers(folder):
    """Paths of the temporary files and folders that unfinished writes left in `folder`."""
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.startswith('.') and is_partial(name))


def check_folder(folder, option):
    """Refuse, before any long work, an output folder that cannot be written: one that exists but is
    read-only or not a folder, or one whose nearest existing parent is (missing folders are made
    later). `option` names the argument the folder came from, e.g. '--out'."""
    folder = os.path.abspath(folder)
    existing = folder
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise WriteError('%s %s: %s is a file, not a folder; choose another %s'
                         % (option, folder, existing, option))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WriteError('%s %s: %s is not writable (read-only or another owner); choose another %s'
                         % (option, folder, existing, option))
    try:  # os.access does not see read-only mounts under root
        probe = tempfile.TemporaryFile(dir=existing)
    except OSError as err:
        raise WriteError('%s %s: cannot write into %s (%s); choose another %s'
                         % (option, folder, existing, err.strerror or err, option)) from err
    probe.close()
    return folder


def check_file_output(path, option, replace=False):
    """check_folder for the folder of an output file, and its own name free unless `replace`."""
    check_folder(os.path.dirname(os.path.abspath(path)), option)
    if not replace:
        refuse_existing(os.path.abspath(path))
    return os.path.abspath(path)


def require_space(folder, size, what, then='run the same command again'):
    """Refuse to start a write of about `size` bytes into `folder` (which exists) when the disk lacks
    the room: Caffe aborts the process on a failed write, Python would leave a partial file. `then`
    says how to go on once there is room."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    if free < size + SPACE_MARGIN:
        raise WriteError('%s needs about %s in %s, which has %s free: free some space (or move the folder '
                         'to a larger disk), then %s' % (what, _mib(size), folder, _mib(free), then))


def _mib(size):
    return '%.1f MiB' % (size / float(1 << 20))


def _write(temp, mode, data, path):
    try:
        with open(temp, mode) as f:
            f.write(data)
    except OSError as err:
        raise WriteError(_cannot_write(path, err)) from err


def _cannot_write(path, err):
    reason = err.strerror or str(err)
    hint = ('free some space and run the same command again' if err.errno in (errno.ENOSPC, errno.EDQUOT)
            else 'choose another output')
    return 'cannot write %s: %s; nothing there was replaced: %s' % (path, reason, hint)


def _fsync_tree(path):
    if os.path.isdir(path):
        for name in os.listdir(path):
            _fsync_tree(os.path.join(path, name))
    _fsync(path)


def _fsync(path):
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
