//go:build !linux

package atomicdir

import "errors"

var errNoExchange = errors.New("atomic exchange not supported")

// exchange is unavailable here: Replace falls back to two renames, and
// Recover repairs a crash between them.
var exchange = func(a, b string) error { return errNoExchange }

func syncTree(root string, files []File, dirs []string) error {
	return syncFiles(root, files, dirs)
}
