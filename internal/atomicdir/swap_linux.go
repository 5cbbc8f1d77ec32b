package atomicdir

import (
	"errors"

	"golang.org/x/sys/unix"
)

// errNoExchange says the OS or file system cannot exchange two paths; the
// caller falls back to two renames.
var errNoExchange = errors.New("atomic exchange not supported")

// exchange swaps the directory entries a and b in one step
// (renameat2 RENAME_EXCHANGE, Linux 3.15+; most local file systems).
var exchange = func(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExchange
	}
	return err
}

// syncTree flushes the new tree with one syncfs of its file system, which
// costs one call instead of one fsync per file (a render writes thousands).
func syncTree(root string, files []File, dirs []string) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return syncFiles(root, files, dirs)
	}
	return nil
}
