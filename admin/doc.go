// Package admin serves ginjwt's admin pages: server-rendered HTML (no
// JavaScript, nothing fetched from elsewhere, readable on a phone) where
// staff see and revoke every user, session, token tree and device without
// writing SQL.
//
//	auth, err := ginjwt.Mount(r, ginjwt.Config{DB: db, SigningKey: secret,
//		SessionLogin: ginjwt.SessionLogin{Enabled: true}})
//	…
//	adm, err := admin.Mount(r, auth, admin.Config{}) // /auth/admin
//	…
//	defer adm.Close(ctx)
//
// # Pages
//
// Under Config.Path (default "/auth/admin"):
//
//   - /users: search by username or e-mail, a page at a time; /users/new
//     creates a user.
//   - /users/{id}: the account, its tokens counted by state, its active
//     sessions (device, IP, created, last used, expires) a page at a time,
//     and the actions: revoke a session, log out everywhere, deactivate or
//     reactivate, set the password.
//   - /sessions/{sid}: the session's token tree — each refresh token, the
//     rotated ones after the one they replaced, followed by the access
//     tokens it issued — with each token's state (active, expired, revoked
//     and why), a page at a time.
//   - /devices and /networks, each with the sessions that used it.
//   - /housekeeping: the registry's counts ([registry.Stats]) and a button
//     that archives the tokens expired more than N days ago, in the
//     background, with a progress page that reloads itself
//     (<meta http-equiv=refresh>) while the run goes on.
//   - /audit: the revocation log, newest first: what was revoked, when,
//     why, and for revocations made on these pages who and from where.
//
// Every list is paginated (Config.PageSize rows, 50 by default): a user or
// a session with 10,000 tokens is 50 rows and a pager.
//
// # Who may enter
//
// Requests are authenticated by ginjwt's middleware: a session login's
// cookie (the usual way, for a browser) or a token. Staff users and
// superusers enter — or, with Config.Perm, the holders of that permission
// — as the token's claims say and as the stored account still says (a user
// demoted or deactivated is refused at once). A signed-in user who may not
// enter gets a 403 page; an anonymous visitor is sent (303) to
// [ginjwt.Auth.LoginURL] and back, or gets a 401 page when session login
// is off. A superuser's account can be changed by a superuser only, and
// only a superuser creates staff.
//
// # Actions
//
// Every action is a POST carrying the CSRF token of [ginjwt.Auth.CSRFToken]
// in the form field [ginjwt.CSRFField] and a confirmation (a required
// checkbox; without it, a confirmation page). A missing or wrong token is a
// 403 page and changes nothing. Revocations go through [ginjwt.Auth]
// (events fire, this instance refuses the tokens at once, others at their
// next read of the revocation log); deactivating a user and setting a
// password are cut-offs, in the same transaction as the change
// ([users.Store.SetActive], [users.Store.SetPassword]). Each records the
// acting user and their address in the revocation log
// ([registry.WithActor]), which the audit page shows.
//
// # Answers
//
// Every answer is HTML, errors included, with stable status codes: 400 for
// malformed input (an ID, a page number past [MaxPage], a field too long),
// 404 for an unknown user, session, device or page, 403, 409 for a taken
// username or an archive run already going, 413 for a body over
// Config.MaxBodyBytes, 500 (logged, without details). Pages forbid scripts,
// framing and caching (Content-Security-Policy, X-Frame-Options,
// Cache-Control); html/template escapes everything users control.
// Elements carry ids and classes a test can select: #user-search,
// table.users tr[data-user], table.sessions tr[data-session],
// form.revoke-session, form.logout-everywhere, form.deactivate,
// form.set-password, table.tokens tr[data-token], #archive-state.
package admin
