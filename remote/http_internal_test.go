package remote

import (
	"net/http"
	"net/url"
	"testing"
)

// TestNoProxyFromTheEnvironment: the client's transport asks no proxy but
// Config.Proxy's, whatever HTTP_PROXY says (http.DefaultTransport would
// send the service credential through it).
func TestNoProxyFromTheEnvironment(t *testing.T) {
	t.Parallel()
	if tr := newHTTPClient(&Config{}).Transport.(*http.Transport); tr.Proxy != nil {
		t.Fatal("the transport takes its proxy from the environment")
	}
	called := false
	cfg := &Config{Proxy: func(*http.Request) (*url.URL, error) { called = true; return nil, nil }}
	tr := newHTTPClient(cfg).Transport.(*http.Transport)
	if _, _ = tr.Proxy(&http.Request{}); !called {
		t.Fatal("Config.Proxy is not the transport's")
	}
}
