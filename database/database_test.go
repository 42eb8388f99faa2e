package database

import (
	"errors"
	"testing"
)

func TestEngineOf(t *testing.T) {
	cases := []struct {
		dsn  string
		want Engine
		err  bool
	}{
		{"sqlite:app.db", SQLite, false},
		{"sqlite::memory:", SQLite, false},
		{"postgres://u@h/db", Postgres, false},
		{"postgresql://u@h/db?sslmode=disable", Postgres, false},
		{"host=127.0.0.1 dbname=test", Postgres, false},
		{"sqlite:", "", true},
		{"mysql://u@h/db", "", true},
		{"app.db", "", true},
		{"", "", true},
	}
	for _, tc := range cases {
		engine, err := engineOf(tc.dsn)
		if engine != tc.want || (err != nil) != tc.err {
			t.Errorf("%q: %q %v", tc.dsn, engine, err)
		}
		if tc.err && !errors.Is(err, ErrBadDSN) {
			t.Errorf("%q: %v is not ErrBadDSN", tc.dsn, err)
		}
	}
}
