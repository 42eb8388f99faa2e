package ginjwt_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// A server-rendered page behind session login: an anonymous visitor is
// sent to the login form, which starts a cookie session; the page then
// sees the user as RequireLogin would, and its forms carry the CSRF token.
func ExampleSessionLogin() {
	store := setup()
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey:   []byte("an example secret of 32+ bytes!!"),
		Users:        store,
		SessionLogin: ginjwt.SessionLogin{Enabled: true},
		// Plain HTTP for this example; leave cookies Secure behind TLS.
		Transport: ginjwt.Transport{Cookies: ginjwt.Cookies{Insecure: true}},
	})
	if err != nil {
		panic(err)
	}
	r.GET("/account", func(c *gin.Context) {
		claims, ok := ginjwt.ClaimsFrom(c)
		if !ok {
			c.Redirect(http.StatusSeeOther, auth.LoginURL(c.Request.URL.Path))
			return
		}
		c.String(http.StatusOK, "hello %s; forms carry %s=…", claims.Username, ginjwt.CSRFField)
	})

	jar := map[string]string{}
	send := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://example.com")
		}
		for name, value := range jar {
			req.AddCookie(&http.Cookie{Name: name, Value: value})
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		for _, c := range w.Result().Cookies() {
			jar[c.Name] = c.Value
		}
		return w
	}

	w := send(http.MethodGet, "/account", nil)
	fmt.Println(w.Code, w.Header().Get("Location"))
	page := send(http.MethodGet, w.Header().Get("Location"), nil)
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page.Body.String())[1]
	w = send(http.MethodPost, "/auth/login", url.Values{
		"username": {"alice"}, "password": {"correct horse battery staple"}, "next": {"/account"}, ginjwt.CSRFField: {token},
	})
	fmt.Println(w.Code, w.Header().Get("Location"))
	fmt.Println(send(http.MethodGet, "/account", nil).Body)
	// Output:
	// 303 /auth/login?next=%2Faccount
	// 303 /account
	// hello alice; forms carry csrf_token=…
}
