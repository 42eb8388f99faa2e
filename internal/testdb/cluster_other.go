//go:build !linux

package testdb

import "syscall"

// procAttr has nothing to add outside Linux: there the tests do not run as
// root, so PostgreSQL's programs run as the test's own user.
func procAttr(*osUser) *syscall.SysProcAttr { return nil }
