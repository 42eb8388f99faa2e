package users

import "sync/atomic"

// CountChecks makes h count the password checks it performs that hash
// (CheckPassword returns at once for a password of a length no hash can
// have) and returns the count so far: userstoretest's
// Fixture.PasswordChecks for Store.
func CountChecks(h *Hasher) func() int64 {
	var n atomic.Int64
	h.checkFn = func(encoded, password string) (bool, error) {
		ok, err := CheckPassword(encoded, password)
		if err == nil && validPassword(password) {
			n.Add(1)
		}
		return ok, err
	}
	return n.Load
}
