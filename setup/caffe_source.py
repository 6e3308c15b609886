"""Fetch and verify the BVLC Caffe source that `make setup` builds (standard library only).

The source is Debian bullseye's source package `caffe` 1.0.0+git20180821.99bd997: its upstream
tarball is BVLC/caffe at commit 99bd997, which differs from BVLC master 9b89154 only in README.md
and scripts/cpp_lint.py, neither of which is built. Places are tried in order until one answers with
a file that verifies:

1. apt's own client, with a private sources list naming Debian's mirror (the system's apt
   configuration is neither read nor changed): `apt-get source --download-only`.
2. The same tarball at its pool path on Debian's mirror, then on archive.debian.org (where bullseye
   goes when it leaves the mirror).
3. GitHub's tarball of BVLC master 9b89154 (only with internet access).

A Debian tarball must match its published sha256; GitHub's tarballs are regenerated on the fly and
have no stable hash, so any tarball is also accepted when its *tree hash* matches: a sha256 over the
sorted (path, content sha256) list of its files, leaving out the top folder and the two files in which
the commits differ. Both tarballs have the same tree hash.

Usage: python setup/caffe_source.py DEST_DIR    prints the verified tarball's path
       python setup/caffe_source.py --describe  one line naming the source (part of the cache key)
"""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

DEBIAN_VERSION = '1.0.0+git20180821.99bd997-8'
TARBALL = 'caffe_1.0.0+git20180821.99bd997.orig.tar.gz'
SHA256 = 'e0eb3f06794f7402c77b7dec8e8480273ee1a1bb192e9122b621a69d4147ad0c'
TREE_SHA256 = '6061ea950743a2673b8e572bf8f45a896b5001c3cbd6f73ec2add16611ee3944'
# The files in which BVLC master 9b89154 differs from 99bd997 (documentation and a lint script).
TREE_EXCLUDED = ('README.md', 'scripts/cpp_lint.py')
BVLC_COMMIT = '9b891540183ddc834a02b2bd81b31afae71b2153'

APT_SOURCE = ('deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] '
              'http://deb.debian.org/debian bullseye main')
POOL_URLS = (
    'http://deb.debian.org/debian/pool/main/c/caffe/' + TARBALL,
    'http://archive.debian.org/debian/pool/main/c/caffe/' + TARBALL,
)
GITHUB_URL = 'https://github.com/BVLC/caffe/archive/%s.tar.gz' % BVLC_COMMIT


class SourceUnavailable(Exception):
    """No place gave a tarball that verifies."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(path, excluded=TREE_EXCLUDED):
    """sha256 over 'content-sha256 path' lines of every file, sorted, top folder stripped if any."""
    entries = []
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.issym()]
        names = [m.name[2:] if m.name.startswith('./') else m.name for m in members]
        tops = {n.split('/', 1)[0] for n in names}
        strip = len(tops) == 1 and all('/' in n for n in names)
        for member, name in zip(members, names):
            rel = name.split('/', 1)[1] if strip else name
            if rel in excluded:
                continue
            if member.issym():
                content = b'symlink:' + member.linkname.encode()
            else:
                content = tar.extractfile(member).read()
            entries.append('%s %s\n' % (hashlib.sha256(content).hexdigest(), rel))
    return hashlib.sha256(''.join(sorted(entries, key=lambda e: e[65:])).encode()).hexdigest()


def verified(path, sha256=None, tree=None):
    """True when the file has the published sha256, or failing that the expected tree hash."""
    sha256 = sha256 or SHA256
    tree = tree or TREE_SHA256
    if sha256_file(path) == sha256:
        return True
    try:
        return tree_sha256(path) == tree
    except (tarfile.TarError, EOFError, OSError):
        return False


def via_apt(workdir):
    """apt-get source --download-only with a private sources list; returns the tarball's path."""
    if not shutil.which('apt-get'):
        raise OSError('apt-get not found')
    etc, lists, cache = (os.path.join(workdir, d) for d in ('etc', 'lists', 'cache'))
    for d in (etc, os.path.join(lists, 'partial'), os.path.join(cache, 'archives', 'partial')):
        os.makedirs(d, exist_ok=True)
    sources = os.path.join(etc, 'sources.list')
    with open(sources, 'w') as f:
        f.write(APT_SOURCE + '\n')
    opts = ['-o', 'Dir::Etc::SourceList=' + sources, '-o', 'Dir::Etc::SourceParts=/dev/null',
            '-o', 'Dir::State::Lists=' + lists, '-o', 'Dir::Cache=' + cache,
            '-o', 'Acquire::Retries=2', '-o', 'APT::Sandbox::User=root']
    for args in (['update'], ['source', '--download-only', 'caffe=' + DEBIAN_VERSION]):
        subprocess.run(['apt-get', '-q'] + opts + args, cwd=workdir, check=True,
                       stdout=sys.stderr, stderr=sys.stderr, timeout=600)
    return os.path.join(workdir, TARBALL)


def via_url(url, workdir, timeout=60):
    path = os.path.join(workdir, os.path.basename(url))
    with urllib.request.urlopen(url, timeout=timeout) as response, open(path, 'wb') as f:
        shutil.copyfileobj(response, f, 1 << 20)
    return path


def places(urls=None):
    """(description, fetch(workdir) -> path) in the order they are tried."""
    found = [('apt-get source caffe=%s (deb.debian.org, bullseye)' % DEBIAN_VERSION, via_apt)]
    for url in urls if urls is not None else POOL_URLS + (GITHUB_URL,):
        found.append((url, lambda workdir, url=url: via_url(url, workdir)))
    return found


def fetch(dest_dir, candidates=None, sha256=None, tree=None, log=sys.stderr):
    """The verified tarball in dest_dir (kept from an earlier run when it verifies)."""
    dest = os.path.join(dest_dir, TARBALL)
    if os.path.exists(dest) and verified(dest, sha256, tree):
        return dest
    os.makedirs(dest_dir, exist_ok=True)
    tried = []
    for description, get in candidates if candidates is not None else places():
        with tempfile.TemporaryDirectory(dir=dest_dir, prefix='fetch.') as workdir:
            try:
                path = get(workdir)
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                tried.append('%s: %s' % (description, str(e).splitlines()[0] if str(e) else type(e).__name__))
                continue
            if not os.path.exists(path) or not verified(path, sha256, tree):
                tried.append('%s: file does not verify' % description)
                continue
            partial = dest + '.partial'
            shutil.copyfile(path, partial)
            os.replace(partial, dest)
            print('caffe source: %s (verified) from %s' % (dest, description), file=log)
            return dest
    raise SourceUnavailable(
        'no place gave the BVLC Caffe source (%s). Tried: %s. Fetch %s (sha256 %s) by other means '
        'and put it at %s, then run make setup again.'
        % (TARBALL, '; '.join(tried), POOL_URLS[0], sha256 or SHA256, dest))


def describe():
    return ('source: BVLC Caffe 99bd997 (= master %s but README.md, scripts/cpp_lint.py) from Debian '
            'caffe %s, %s sha256 %s' % (BVLC_COMMIT[:7], DEBIAN_VERSION, TARBALL, SHA256))


def main(argv):
    if len(argv) != 2:
        print('\n'.join(__doc__.strip().splitlines()[-2:]), file=sys.stderr)
        return 2
    if argv[1] == '--describe':
        print(describe())
        return 0
    try:
        print(fetch(argv[1]))
    except SourceUnavailable as e:
        print('setup: ' + str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
