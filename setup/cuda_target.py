"""Decide whether `make setup` builds Caffe for CUDA, and for which GPU architectures (standard library only).

    CUDA=0                         the CPU build
    CUDA=1 CUDA_ARCHS="75 86 90"   the CUDA build for these compute capabilities, on any machine
    CUDA=1                         the CUDA build for the GPUs `nvidia-smi` lists (an error without one)
    CUDA=auto (the default)        the CUDA build when `nvidia-smi` lists a GPU that CUDA 13 can use
                                   (compute capability 7.5 or newer) under a driver that can run it
                                   (580 or newer); the CPU build otherwise, saying why

Prints `cpu`, or `cuda` and the architectures (`cuda 86 90`); what it found and why goes to stderr.
PTX for the newest architecture listed is added by setup.sh, so a newer GPU can still run the build.

Usage: python setup/cuda_target.py CUDA CUDA_ARCHS
"""
import re
import shutil
import subprocess
import sys

MIN_ARCH = 75        # CUDA 13 dropped sm_50 ... sm_72 (Maxwell, Pascal, Volta)
MIN_DRIVER = 580     # the oldest driver branch that runs CUDA 13 binaries
EXAMPLE_ARCHS = '75 80 86 89 90'


class TargetError(Exception):
    """CUDA/CUDA_ARCHS asked for something that cannot be built; the message says what to set."""


def parse_archs(text):
    """'75 8.6 90' -> [75, 86, 90] (sorted, unique); a dot in a compute capability is optional."""
    archs = set()
    for word in text.replace(',', ' ').split():
        if not re.fullmatch(r'\d+(\.\d)?', word):
            raise TargetError('CUDA_ARCHS: %r is not a compute capability (write e.g. CUDA_ARCHS="%s")'
                              % (word, EXAMPLE_ARCHS))
        arch = int(word.replace('.', ''))
        if arch < MIN_ARCH:
            raise TargetError('CUDA_ARCHS: sm_%d is older than CUDA 13 supports (7.5, Turing, and newer); '
                              'use CUDA=0 for the CPU build on such a machine' % arch)
        archs.add(arch)
    return sorted(archs)


def parse_nvidia_smi(text):
    """Rows of `nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader`
    -> [(name, arch, driver major)]."""
    gpus = []
    for line in text.strip().splitlines():
        name, cap, driver = [field.strip() for field in line.rsplit(',', 2)]
        gpus.append((name, int(cap.replace('.', '')), int(driver.split('.')[0])))
    return gpus


def query_gpus():
    """The GPUs nvidia-smi lists ([] without nvidia-smi or a working driver)."""
    if not shutil.which('nvidia-smi'):
        return []
    try:
        out = subprocess.run(['nvidia-smi', '--query-gpu=name,compute_cap,driver_version', '--format=csv,noheader'],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    try:
        return parse_nvidia_smi(out.stdout)
    except ValueError:
        return []


def decide(cuda, archs_text, gpus):
    """(archs or None for the CPU build, reason) for CUDA=`cuda`, CUDA_ARCHS=`archs_text` on a machine
    with `gpus` (as parse_nvidia_smi returns them)."""
    cuda = (cuda or 'auto').strip().lower()
    if cuda not in ('0', '1', 'auto'):
        raise TargetError('CUDA=%s: use CUDA=1 (CUDA build), CUDA=0 (CPU build) or leave it unset (auto)' % cuda)
    if cuda == '0':
        return None, 'CUDA=0: CPU build'
    found = ', '.join('%s (sm_%d, driver %d)' % gpu for gpu in gpus) or 'no GPU (nvidia-smi lists none)'
    requested = parse_archs(archs_text) if archs_text.strip() else None
    if cuda == '1':
        if requested:
            return requested, 'CUDA=1: CUDA build for sm_%s' % ', sm_'.join(map(str, requested))
        if not gpus:
            raise TargetError('CUDA=1 on a machine with %s: name the GPUs to build for, e.g. CUDA_ARCHS="%s"'
                              % (found, EXAMPLE_ARCHS))
        return parse_archs(' '.join(str(arch) for _, arch, _ in gpus)), 'CUDA=1: CUDA build for %s' % found
    usable = [gpu for gpu in gpus if gpu[1] >= MIN_ARCH and gpu[2] >= MIN_DRIVER]
    if not usable:
        if gpus:
            found += ': CUDA 13 needs compute capability 7.5 or newer and driver %d or newer' % MIN_DRIVER
        return None, 'auto: CPU build (%s; CUDA=1 CUDA_ARCHS="..." builds for CUDA anyway)' % found
    return requested or sorted({arch for _, arch, _ in usable}), 'auto: CUDA build for %s' % found


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        archs, reason = decide(argv[1], argv[2], query_gpus())
    except TargetError as err:
        print('setup: %s' % err, file=sys.stderr)
        return 1
    print(reason, file=sys.stderr)
    print('cpu' if archs is None else 'cuda ' + ' '.join(map(str, archs)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
