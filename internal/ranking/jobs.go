package ranking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// QueueRecompute asks for the period to be computed again (late data, a
// request), in the context's transaction. A pending job for the period
// already covers it.
func (s *Service) QueueRecompute(ctx context.Context, kind, period, reason string) error {
	_, err := s.queue(ctx, kind, period, reason, "")
	return err
}

func (s *Service) queue(ctx context.Context, kind, period, reason, by string) (Job, error) {
	return s.store.QueueJob(ctx, Job{ID: uuid.Must(uuid.NewV7()).String(), PeriodKind: kind, Period: period, Status: Pending,
		Reason: reason, RequestedBy: by, CreatedAt: s.now()})
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
	return jobs
}

// RequestRecompute queues a period for an admin (POST /index/recompute):
// the answer is the job, at once. Returns errs.FieldErrors for a bad period.
func (s *Service) RequestRecompute(ctx context.Context, p access.Principal, period string) (Job, error) {
	if p.Role != access.Admin {
		return Job{}, fmt.Errorf("admins recompute the index: %w", errs.ErrForbidden)
	}
	kind, start, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return Job{}, errs.Invalid("period", "a month (2026-10) or a day (2026-10-15)")
	}
	if !start.Before(s.now()) {
		return Job{}, errs.Invalid("period", "has not begun yet")
	}
	var j Job
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		var err error
		if j, err = s.queue(ctx, kind, period, "request", p.UserID); err != nil {
			return err
		}
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

// Tick is the scheduler's step, run every minute by every instance: it
// queues the daily index of yesterday and the day before and the monthly
// index of the last two months, once each,
// then runs the pending jobs it can claim. The claim is a conditional
// UPDATE, so each job runs on exactly one instance.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now().In(s.loc)
	today := indicator.PeriodOf(indicator.Day, now, s.loc)
	month := indicator.PeriodOf(indicator.Month, now, s.loc)
	// The last two of each, so that the latest also shows its change.
	var due [][2]string
	for n := 2; n >= 1; n-- {
		due = append(due, [2]string{indicator.Day, indicator.Shift(indicator.Day, today, -n, s.loc)},
			[2]string{indicator.Month, indicator.Shift(indicator.Month, month, -n, s.loc)})
	}
	for _, kp := range due {
		// One id per scheduled period: instances ticking at once insert it once.
		id := uuid.NewSHA1(scheduleSpace, []byte(kp[0]+"/"+kp[1])).String()
		err := s.store.CreateJob(ctx, Job{ID: id, PeriodKind: kp[0], Period: kp[1], Status: Pending, Reason: "schedule", CreatedAt: now})
		if err != nil && !errors.Is(err, errs.ErrConflict) {
			return err
		}
	}
	return s.RunPending(ctx)
}

// RunPending runs jobs until none is left to claim.
func (s *Service) RunPending(ctx context.Context) error {
	for ctx.Err() == nil {
		now := s.now()
		j, ok, err := s.store.ClaimJob(ctx, s.owner, now, now.Add(JobLease))
		if err != nil || !ok {
			return err
		}
		start := time.Now()
		status, text := Done, ""
		if err := s.Compute(ctx, j.Period); err != nil {
			status, text = Failed, err.Error()
			if len(text) > 500 {
				text = text[:500]
			}
			s.logger.Warn("index job failed", slog.String("job", j.ID), slog.String("period", j.Period), slog.String("error", text))
		} else {
			s.logger.Info("index computed", slog.String("job", j.ID), slog.String("period", j.Period),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000))
		}
		if err := s.store.FinishJob(ctx, j.ID, s.owner, status, text, s.now()); err != nil {
			return err
		}
	}
	return ctx.Err()
}
