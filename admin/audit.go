package admin

import (
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// auditRow is one entry of the audit trail.
type auditRow struct {
	registry.Revocation
	Actor string // the actor's username, when known
}

type auditData struct {
	Entries []auditRow
	Subject string
	Next    string // the older page's link; "" at the end
	Newest  string // the first page's link; "" on it
}

// auditPage is GET /audit?before=&subject=: the revocation log, newest
// first, with who revoked and from where.
func (a *Admin) auditPage(c *gin.Context) {
	subject := c.Query("subject")
	if !textParam(subject, 64) {
		a.badRequest(c, "The subject must be at most 64 characters of text.")
		return
	}
	var before int64
	if s, ok := c.GetQuery("before"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			a.badRequest(c, "before must be a positive whole number.")
			return
		}
		before = n
	}
	list, err := a.reg.RevocationLog(c.Request.Context(), registry.LogQuery{Before: before, Subject: subject, Limit: a.cfg.PageSize})
	if err != nil {
		a.serverError(c, err)
		return
	}
	names, err := a.usernames(c, func(yield func(string) bool) {
		for _, r := range list {
			if r.ActorID != nil && !yield(*r.ActorID) {
				return
			}
		}
	})
	if err != nil {
		a.serverError(c, err)
		return
	}
	d := auditData{Subject: subject}
	for _, r := range list {
		row := auditRow{Revocation: r}
		if r.ActorID != nil {
			row.Actor = names[*r.ActorID]
		}
		d.Entries = append(d.Entries, row)
	}
	q := url.Values{}
	if subject != "" {
		q.Set("subject", subject)
	}
	if len(list) == a.cfg.PageSize {
		next := url.Values{"before": {strconv.FormatInt(list[len(list)-1].ID, 10)}}
		if subject != "" {
			next.Set("subject", subject)
		}
		d.Next = a.cfg.Path + "/audit?" + next.Encode()
	}
	if before > 0 {
		d.Newest = a.cfg.Path + "/audit?" + q.Encode()
	}
	a.render(c, http.StatusOK, "audit", "Audit trail", "audit", d)
}

// usernames looks up the usernames of the given user IDs (a page's worth),
// each once; users that no longer exist are left out.
func (a *Admin) usernames(c *gin.Context, ids iter.Seq[string]) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	for id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		u, err := a.users.Find(c.Request.Context(), id)
		if errors.Is(err, users.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u.Username
	}
	return out, nil
}
