package admin

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/registry"
)

// MaxArchiveDays bounds the archive form's "expired more than N days ago".
const MaxArchiveDays = 3650

// archiveJob is the archive run started from the housekeeping page: one at
// a time per Admin.
type archiveJob struct {
	mu     sync.Mutex
	closed bool // Admin.Close was called: no run starts any more
	jobState
}

// jobState is what archiveJob's mutex guards.
type jobState struct {
	ran      bool // a run was started since Mount
	running  bool
	by       string // username of who started it
	days     int
	before   time.Time
	started  time.Time
	finished time.Time
	progress registry.ArchiveProgress
	deleted  int
	err      string
}

// archiveStatus is a copy of the job for the pages.
type archiveStatus struct {
	Ran, Running      bool
	By                string
	Days              int
	Before            time.Time
	Started, Finished time.Time
	Progress          registry.ArchiveProgress
	Deleted           int
	Err               string
	Percent           int
}

func (j *archiveJob) status() archiveStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := archiveStatus{Ran: j.ran, Running: j.running, By: j.by, Days: j.days, Before: j.before,
		Started: j.started, Finished: j.finished, Progress: j.progress, Deleted: j.deleted, Err: j.err}
	if j.progress.Expected > 0 {
		s.Percent = int(min(100, int64(j.progress.Tokens)*100/j.progress.Expected))
	} else if !j.running && j.ran {
		s.Percent = 100
	}
	return s
}

type housekeepingData struct {
	Stats   registry.Stats
	Archive archiveStatus
	Days    int
}

// housekeepingPage is GET /housekeeping: the registry's counts and the
// archive form.
func (a *Admin) housekeepingPage(c *gin.Context) {
	st, err := a.reg.Stats(c.Request.Context())
	if err != nil {
		a.serverError(c, err)
		return
	}
	a.render(c, http.StatusOK, "housekeeping", "Housekeeping", "housekeeping", housekeepingData{Stats: st, Archive: a.job.status(), Days: 10})
}

// startArchive is POST /housekeeping/archive (days, confirm): it starts an
// archive run of the tokens expired more than days ago in the background
// and sends the browser to its status page. A run already going is
// answered 409.
func (a *Admin) startArchive(c *gin.Context) {
	days, err := strconv.Atoi(c.Request.PostForm.Get("days"))
	if err != nil || days < 0 || days > MaxArchiveDays {
		a.badRequest(c, "The number of days must be a whole number between 0 and "+strconv.Itoa(MaxArchiveDays)+".")
		return
	}
	if !a.confirmed(c, confirmData{Question: "Archive (delete) every token expired more than " + strconv.Itoa(days) + " days ago?",
		Fields: []field{{Name: "days", Value: strconv.Itoa(days)}}}) {
		return
	}
	now := a.reg.Now()
	before := now.Add(-time.Duration(days) * 24 * time.Hour)
	j := &a.job
	j.mu.Lock()
	switch {
	case j.closed:
		j.mu.Unlock()
		c.Header("Retry-After", "1")
		a.fail(c, http.StatusServiceUnavailable, "Unavailable", "The server is shutting down.")
		return
	case j.running:
		j.mu.Unlock()
		a.fail(c, http.StatusConflict, "Already running", "An archive run is already going: see its progress on the housekeeping page.")
		return
	}
	j.jobState = jobState{ran: true, running: true, by: visitorOf(c).user.Username, days: days, before: before, started: now}
	a.wg.Add(1) // under the lock: Close waits for every run it lets start
	j.mu.Unlock()
	go a.runArchive(a.ctx, before)
	a.redirect(c, "/housekeeping/archive", "archive-started")
}

// runArchive runs the archiver, recording its progress, until it is done
// or the Admin is closed.
func (a *Admin) runArchive(ctx context.Context, before time.Time) {
	defer a.wg.Done()
	n, err := a.reg.ArchiveWithProgress(ctx, before, func(p registry.ArchiveProgress) {
		a.job.mu.Lock()
		a.job.progress = p
		a.job.mu.Unlock()
	})
	if err != nil {
		a.cfg.Logger.Error("ginjwt admin: archive run", "error", err, "deleted", n)
	}
	j := &a.job
	j.mu.Lock()
	defer j.mu.Unlock()
	j.running, j.deleted, j.finished = false, n, a.reg.Now()
	if err != nil {
		j.err = "The run stopped early: " + err.Error()
	}
}

// archivePage is GET /housekeeping/archive: the run's progress; the page
// reloads itself every 2 seconds while the run goes on.
func (a *Admin) archivePage(c *gin.Context) {
	a.render(c, http.StatusOK, "archive", "Archive run", "housekeeping", a.job.status())
}
