"""Where things live. Paths written into generated prototxt (data folders) are relative to the
repository root, so nets run the same from any working directory."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETS = 'nets'        # nets/<variant>/<net>.prototxt, generated and checked in
SOLVERS = 'solvers'  # solvers/<variant>.prototxt, generated and checked in


def resolve(path):
    """An absolute path for `path`; relative paths are taken from the repository root."""
    path = os.path.expanduser(str(path))
    return path if os.path.isabs(path) else os.path.join(ROOT, path)
