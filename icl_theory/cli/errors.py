"""What the command line exits with and how it names a failed file operation."""

import errno

# Exit statuses: bad input, files or disks; and Ctrl-C (128 + SIGINT, the shell's convention).
BAD_INPUT = 2
INTERRUPTED = 130


_OS_ERROR_FIXES = {
    errno.ENOSPC: "the disk is full: free space, then continue a training run with --resume",
    errno.EDQUOT: "the disk quota is used up: free space, then continue with --resume",
    errno.EROFS: "the file system is read-only: choose a folder on a writable disk",
    errno.EACCES: "permission denied: choose a path you can write to, or change its permissions",
    errno.EPERM: "permission denied: choose a path you can write to, or change its permissions",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "it is a folder where a file was expected: choose a file path",
    errno.EEXIST: "it already exists: choose a new name",
    errno.ENOENT: "it does not exist: check the path",
}


def describe_os_error(error: OSError) -> str:
    """One line naming the path, the problem and the fix."""
    if error.filename is None and error.errno is None:  # raised by this package with a message
        return str(error)
    fix = _OS_ERROR_FIXES.get(error.errno or -1, "check the path and the disk")
    path = error.filename if error.filename is not None else "a file"
    return f"{path}: {error.strerror or error}; {fix}"
