//go:build !unix

package ownership

// Lock does not lock where flock(2) is missing: concurrent meshc runs on one
// directory are not serialised there (docs/guarantees.md says so).
func Lock(dir string) (unlock func(), err error) { return func() {}, nil }
