//go:build unix

package ownership

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Lock blocks until this process holds the exclusive lock for writing dir,
// and returns the function that releases it. The lock is an flock(2) on
// dir's parent, the directory in which the swap happens: it needs no lock
// file, survives dir being replaced, and is released by the kernel when the
// process dies, so a crashed run never leaves it held. The parent must
// exist.
func Lock(dir string) (unlock func(), err error) {
	parent := filepath.Dir(filepath.Clean(dir))
	f, err := os.Open(parent)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s (flock on %s): %w", dir, parent, err)
	}
	return func() { f.Close() }, nil
}
