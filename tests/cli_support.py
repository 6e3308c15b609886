"""Shared by the command-line tests: how an entry point reports an error the user can fix."""
import re


def assert_user_error(status, capsys, prog, pattern):
    """The command exited with status 2 after printing one line `<prog>: <message>` to stderr, the
    message matching `pattern`, and no traceback."""
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count('\n') == 1 and err.startswith(prog + ': '), err
    assert re.search(pattern, err[len(prog) + 2:]), err
