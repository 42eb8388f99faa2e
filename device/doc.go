// Package device is the device registry: it records which browser, operating
// system and device each session was opened from, and from which IP address,
// so a user can see their sessions ("Chrome 120 on macOS, 203.0.113.7") and
// end the ones they don't recognise.
//
// # Recognising a client
//
// [Parse] turns a User-Agent header into an [Agent]: browser and major
// version, operating system and version, platform, and whether the client is
// a mobile device or a bot. [Recognize] does the same for an *http.Request,
// and [Agent.Label] gives the short human label shown in session lists.
// Parsing is pure, never fails and never panics: an empty, unknown or
// malicious header gives an Agent with empty fields and the label
// "Unknown device". Only the first [MaxRawLen] bytes of a header are parsed:
// past them, a huge header costs only its hash.
//
// # Deduplication
//
// Thousands of sessions share a handful of User-Agent strings. An Agent
// carries [Agent.Hash], the SHA-256 of the header exactly as sent, so each
// distinct header is stored once as an interlocutor row and every session
// points at it. The hash covers the whole header, not just the bounded
// [Agent.Raw] kept for display, so a long header never collides with its own
// prefix.
//
// # Models and the pipeline step
//
// A device is stored as an Interlocutor (the Django original's name, kept for
// the tables): the parsed User-Agent, embedding an Agent, and an
// InterlocutorNetwork, the IP address and forwarded chain;
// TokenInterlocutorConnection links a token to both. Everything shown to
// users says device. [Registry.ConnectInterlocutor] is the pipeline step that
// records them on every obtain and refresh. The step reads the User-Agent
// and client IP from the pipeline event, captured when the request was made.
package device
