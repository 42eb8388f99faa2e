package throttle

import (
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70_000)
	if k := loginKey(long); len(k) > 64 || k != loginKey(strings.ToUpper(long)) {
		t.Fatalf("long login key: %d bytes", len(k))
	}
	if loginKey(" Alice ") != loginKey("alice") {
		t.Fatal("a login's key depends on case or surrounding space")
	}
	if loginKey("42") == accountKey("42") || loginKey("192.0.2.1") == ipKey("192.0.2.1") {
		t.Fatal("a login, an account and an address share a key")
	}
	if ipKey("2001:db8::1") != ipKey("2001:db8::ffff:1") || ipKey("2001:db8::1") == ipKey("2001:db8:0:1::1") {
		t.Fatal("IPv6 clients are not bucketed by /64")
	}
	if ipKey("192.0.2.1") == ipKey("192.0.2.2") {
		t.Fatal("IPv4 clients share a bucket")
	}
}
