//go:build !unix

package sqlite

// access finds nothing to say where the kernel offers no access(2): the
// errors keep the driver's words.
func access(string, bool) error { return nil }
