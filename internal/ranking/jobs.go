package ranking

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// QueueRecompute asks for the period to be computed again (late data, a
// request), in the context's transaction, and wakes this instance's runner
// once it commits. A pending job for the period already covers it (one of
// the backfill's does not: Store.QueueJob).
func (s *Service) QueueRecompute(ctx context.Context, kind, period, reason string) error {
	if _, err := s.queue(ctx, kind, period, reason, ""); err != nil {
		return err
	}
	// This instance's runner starts it as soon as it can be read.
	s.log.AfterCommit(ctx, s.wakeRunner)
	return nil
}

func (s *Service) queue(ctx context.Context, kind, period, reason, by string) (Job, error) {
	return s.store.QueueJob(ctx, Job{ID: uuid.Must(uuid.NewV7()).String(), PeriodKind: kind, Period: period, Status: Pending,
		Reason: reason, RequestedBy: by, CreatedAt: s.now()})
}

// QueueJobs queues jobs (LateJobs' of a report) in the context's
// transaction, each unless one of its period is pending already, and wakes
// this instance's runner after the commit.
func (s *Service) QueueJobs(ctx context.Context, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	for _, j := range jobs {
		if _, err := s.store.QueueJob(ctx, j); err != nil {
			return err
		}
	}
	s.log.AfterCommit(ctx, s.wakeRunner)
	return nil
}

// LateJobs returns the recomputations of the day and month that hold t
// when they have passed (a report sent late from an offline phone), for
// the caller to queue with the late data itself; a job is not needed when
// one of its period is pending already (Store.QueueJob).
func (s *Service) LateJobs(t time.Time) []Job {
	now := s.now()
	var jobs []Job
	for _, kind := range []string{indicator.Day, indicator.Month} {
		p := indicator.PeriodOf(kind, t, s.loc)
		if p == indicator.PeriodOf(kind, now, s.loc) {
			continue // the current period is computed after it ends
		}
		jobs = append(jobs, Job{ID: uuid.Must(uuid.NewV7()).String(), PeriodKind: kind, Period: p, Status: Pending,
			Reason: "late_data", CreatedAt: now})
	}
	return append(jobs, s.lateTaskJobs(t, now)...)
}

// RequestRecompute queues a period for an admin (POST /index/recompute):
// the answer is the job, at once. Returns errs.FieldErrors naming "at" (the
// period's field in the API) for a bad period or one not begun.
func (s *Service) RequestRecompute(ctx context.Context, p access.Principal, period string) (Job, error) {
	if p.Role != access.Admin {
		return Job{}, fmt.Errorf("admins recompute the index: %w", errs.ErrForbidden)
	}
	kind, start, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return Job{}, errs.Invalid("at", err.Error())
	}
	if !start.Before(s.now()) {
		return Job{}, errs.Invalid("at", "a period that has begun")
	}
	var j Job
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		var err error
		if j, err = s.queue(ctx, kind, period, "request", p.UserID); err != nil {
			return err
		}
		s.log.AfterCommit(ctx, s.wakeRunner)
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "index.recompute", "index_job", j.ID, `{"period":"`+period+`"}`))
	})
	return j, err
}

// Job returns a job for admins.
func (s *Service) Job(ctx context.Context, p access.Principal, id string) (Job, error) {
	if p.Role != access.Admin {
		return Job{}, fmt.Errorf("admins follow index jobs: %w", errs.ErrForbidden)
	}
	if _, err := uuid.Parse(id); err != nil {
		return Job{}, fmt.Errorf("job %q: %w", id, errs.ErrNotFound)
	}
	return s.store.FindJob(ctx, id)
}
