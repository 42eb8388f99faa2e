package jose

import "testing"

func TestSameType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ, want string
		same      bool
	}{
		{"at+jwt", TypAccess, true},
		{"AT+JWT", TypAccess, true},
		{"At+Jwt", TypAccess, true},
		{"application/at+jwt", TypAccess, true},
		{"Application/AT+JWT", TypAccess, true},
		{"refresh+jwt", TypRefresh, true},
		{"application/Refresh+JWT", TypRefresh, true},
		{"JWT", TypLegacy, true},
		{"jwt", TypLegacy, true},
		{"application/jwt", TypLegacy, true},
		{"", TypAccess, false},
		{"at+jwt", TypRefresh, false},
		{"refresh+jwt", TypAccess, false},
		{"text/at+jwt", TypAccess, false},
		{"/at+jwt", TypAccess, false},
		{"application/application/at+jwt", TypAccess, false},
		{"application/", TypAccess, false},
		{"at+jwt ", TypAccess, false},
		{" at+jwt", TypAccess, false},
		{"at+jwt; charset=utf-8", TypAccess, false},
		{"at+jws", TypAccess, false},
		{"rt+jwt", TypRefresh, false},
		{"refre\u017fh+jwt", TypRefresh, false}, // LONG S folds to s in Unicode, not in media types
		{"\u212aWT", TypLegacy, false},          // KELVIN SIGN
		{"JWT", TypAccess, false},
		{"at+jwt", TypLegacy, false},
	}
	for _, tc := range cases {
		if got := SameType(tc.typ, tc.want); got != tc.same {
			t.Errorf("SameType(%q, %q) = %v, want %v", tc.typ, tc.want, got, tc.same)
		}
	}
}
