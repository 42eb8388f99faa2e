package testdb

import "syscall"

// procAttr runs a PostgreSQL program as owner (when not nil) and has the
// kernel send the server an immediate-shutdown signal if the test binary dies
// before its cleanup runs.
func procAttr(owner *osUser) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if owner != nil {
		attr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	return attr
}
