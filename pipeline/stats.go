package pipeline

// Queued returns how many events wait in the background queue now, not
// counting those a worker is running. It is 0 for a synchronous Runner.
// Safe for concurrent use, also after Close.
func (r *Runner) Queued() int { return len(r.queue) }

// QueueSize returns the capacity of the background queue (Options.QueueSize
// after defaults): with Queued, how close the Runner is to running events
// in their callers. It is 0 for a synchronous Runner.
func (r *Runner) QueueSize() int { return cap(r.queue) }
