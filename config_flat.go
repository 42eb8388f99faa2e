package ginjwt

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// flatFields maps each deprecated flat field of Config to the field of a
// section that replaced it. RotateRefresh has no successor (rotation is on
// by default) and is handled by adoptFlat itself.
var flatFields = []struct{ flat, section string }{
	{"AccessTTL", "Tokens.AccessTTL"},
	{"RefreshTTL", "Tokens.RefreshTTL"},
	{"Leeway", "Tokens.Leeway"},
	{"Issuer", "Tokens.Issuer"},
	{"Audience", "Tokens.Audience"},
	{"RefuseLegacyTyp", "Tokens.RefuseLegacyTyp"},
	{"Sliding", "Tokens.Sliding"},
	{"SlidingTTL", "Tokens.SlidingTTL"},
	{"SlidingRefreshTTL", "Tokens.SlidingRefreshTTL"},
	{"DisableRefreshRotation", "Tokens.DisableRefreshRotation"},
	{"AllowRefreshUpdate", "Tokens.AllowRefreshUpdate"},
	{"ReuseGrace", "Tokens.ReuseGrace"},
	{"ClaimsHook", "Tokens.ClaimsHook"},
	{"BlacklistAfterRotation", "Registry.RevokeRotated"},
	{"ExpireOnRefresh", "Registry.RevokeOthersOnRefresh"},
	{"ExpireAnyPerm", "Registry.ExpireAnyPerm"},
	{"Cookies", "Transport.Cookies"},
	{"CSRF", "Transport.CSRF"},
	{"AuthScheme", "Transport.AuthScheme"},
	{"TrustedProxies", "Transport.TrustedProxies"},
	{"Prefix", "Routes.Prefix"},
	{"Paths", "Routes.Paths"},
	{"Handlers", "Routes.Handlers"},
	{"Hasher", "Accounts.Hasher"},
	{"UpdateLastLogin", "Accounts.UpdateLastLogin"},
	{"MaxBodyBytes", "Limits.MaxBodyBytes"},
	{"Throttle", "Limits.Throttle"},
	{"Cache", "Limits.Cache"},
}

// flatNames remembers which sections' fields were set through a deprecated
// flat field, so that an error names the field the application wrote.
type flatNames map[string]string // "Config.Tokens.AccessTTL" → "Config.AccessTTL"

// adoptFlat moves every deprecated flat field that is set into its
// section, and zeroes it. Setting a flat field and its successor to
// different values is an error; so is RotateRefresh with
// DisableRefreshRotation or sliding tokens.
func (c *Config) adoptFlat() (flatNames, error) {
	v := reflect.ValueOf(c).Elem()
	var names flatNames
	for _, f := range flatFields {
		flat := v.FieldByName(f.flat)
		if flat.IsZero() {
			continue
		}
		section, field, _ := strings.Cut(f.section, ".")
		dst := v.FieldByName(section).FieldByName(field)
		if !dst.IsZero() && !equalSetting(dst, flat) {
			return nil, fmt.Errorf("ginjwt: set Config.%s or the deprecated Config.%s, not both", f.section, f.flat)
		}
		dst.Set(flat)
		flat.SetZero()
		if names == nil {
			names = flatNames{}
		}
		names["Config."+f.section] = "Config." + f.flat
	}
	if c.RotateRefresh {
		if c.Tokens.DisableRefreshRotation {
			return nil, errors.New("ginjwt: Config.RotateRefresh and Config.Tokens.DisableRefreshRotation contradict each other (RotateRefresh is deprecated: rotation is on by default)")
		}
		if c.Tokens.Sliding {
			return nil, errors.New("ginjwt: Config.RotateRefresh does not apply to sliding tokens (Config.Tokens.Sliding), which have no refresh tokens (RotateRefresh is deprecated: leave it out)")
		}
		c.RotateRefresh = false
	}
	return names, nil
}

// equalSetting reports whether two values of a setting are the same; two
// functions never are.
func equalSetting(a, b reflect.Value) bool {
	if a.Kind() == reflect.Func {
		return false
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// rename rewrites err's message to name the deprecated flat fields the
// application set instead of the sections' fields that took their values.
func (n flatNames) rename(err error) error {
	if len(n) == 0 {
		return err
	}
	msg := err.Error()
	for section, flat := range n {
		msg = replaceField(msg, section, flat)
	}
	if msg == err.Error() {
		return err
	}
	return &renamedError{msg: msg, err: err}
}

// replaceField replaces the field name old by new in msg where it stands
// as a whole name (followed by neither a letter nor a digit), so that
// Config.Tokens.SlidingTTL is not taken for a part of
// Config.Tokens.SlidingTTLs.
func replaceField(msg, old, new string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, old)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		end := i + len(old)
		b.WriteString(msg[:i])
		if end < len(msg) && isNameByte(msg[end]) {
			b.WriteString(old)
		} else {
			b.WriteString(new)
		}
		msg = msg[end:]
	}
}

func isNameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// renamedError is an error whose message names the fields the application
// set; it unwraps to the original.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }
