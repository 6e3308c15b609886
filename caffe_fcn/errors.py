"""The one base of every error a user can fix (a missing file, a wrong flag, a file that does not
fit the net). Entry points print these in one line; anything else is a bug and keeps its traceback."""


class UserError(Exception):
    """An error whose message names the file, layer or parameter at fault and what to do next."""


class OutputExists(UserError, FileExistsError):
    """A file a command would write is already there: no command replaces one."""
