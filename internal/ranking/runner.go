package ranking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// Run is one instance's index runner (SPEC §9.6), until ctx ends. It runs
// every job it can claim, one after the other, and looks for more every
// PollEvery, or at once when this instance queues one (QueueRecompute), so
// that a queued job starts within about a second. Every QueueEvery
// (FirstQueue after it starts) it queues the scheduled periods and the
// backfill (QueueDue). Errors are logged; a job it holds when ctx ends goes
// back to the queue. Several instances may run it on one database: a claim
// gives each job to one of them.
func (s *Service) Run(ctx context.Context) {
	poll := time.NewTicker(PollEvery)
	defer poll.Stop()
	nextQueue := time.Now().Add(FirstQueue)
	for ctx.Err() == nil {
		if !time.Now().Before(nextQueue) {
			nextQueue = time.Now().Add(QueueEvery)
			if err := s.QueueDue(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("index scheduler", slog.String("error", err.Error()))
			}
		}
		ran, err := s.runOne(ctx)
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("index runner", slog.String("error", err.Error()))
		}
		if ran && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
		case <-poll.C:
		case <-s.wake:
		}
	}
}

// wakeRunner tells this instance's Run that a job is waiting.
func (s *Service) wakeRunner() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Tick queues what is due (QueueDue) and runs the pending jobs this
// instance can claim (RunPending): Run's work in one call, for tests and
// tools.
func (s *Service) Tick(ctx context.Context) error {
	if err := s.QueueDue(ctx); err != nil {
		return err
	}
	return s.RunPending(ctx)
}

// QueueDue queues, once each, the daily index of yesterday and the day
// before and the monthly index of the last two months (so that the latest
// also shows its change), then the backfill: every past day and month from
// the earliest case's up to yesterday and last month that has neither
// results nor a pending job. Ids derived from the period make instances
// queueing at once insert each job once.
func (s *Service) QueueDue(ctx context.Context) error {
	now := s.now().In(s.loc)
	today := indicator.PeriodOf(indicator.Day, now, s.loc)
	month := indicator.PeriodOf(indicator.Month, now, s.loc)
	var due [][2]string
	for n := 2; n >= 1; n-- {
		due = append(due, [2]string{indicator.Day, indicator.Shift(indicator.Day, today, -n, s.loc)},
			[2]string{indicator.Month, indicator.Shift(indicator.Month, month, -n, s.loc)})
	}
	for _, kp := range due {
		id := uuid.NewSHA1(scheduleSpace, []byte(kp[0]+"/"+kp[1])).String()
		err := s.store.CreateJob(ctx, Job{ID: id, PeriodKind: kp[0], Period: kp[1], Status: Pending, Reason: "schedule", CreatedAt: now})
		if err != nil && !errors.Is(err, errs.ErrConflict) {
			return err
		}
	}
	if err := s.queueTasks(ctx, now); err != nil {
		return err
	}
	return s.queueBackfill(ctx, now)
}

// queueBackfill queues a Backfill job for every past period of the
// history (from the earliest case's, at most BackfillYears back) that has
// no results and no pending or running job. Its ids derive from the
// period, so a period is backfilled once: one whose job failed is not
// queued again (its failed job says why).
func (s *Service) queueBackfill(ctx context.Context, now time.Time) error {
	first, ok, err := s.store.FirstCaseAt(ctx)
	if err != nil || !ok {
		return err
	}
	if horizon := now.AddDate(-BackfillYears, 0, 0); first.Before(horizon) {
		first = horizon
	}
	var jobs []Job
	for _, kind := range []string{indicator.Month, indicator.Day} {
		from := indicator.PeriodOf(kind, first, s.loc)
		last := indicator.Shift(kind, indicator.PeriodOf(kind, now, s.loc), -1, s.loc)
		if from > last { // periods of a kind compare as text
			continue
		}
		have := map[string]bool{}
		for _, list := range []func(context.Context, string) ([]string, error){s.store.ComputedPeriods, s.store.ActivePeriods} {
			ps, err := list(ctx, kind)
			if err != nil {
				return err
			}
			for _, p := range ps {
				have[p] = true
			}
		}
		for p := from; p <= last; p = indicator.Shift(kind, p, 1, s.loc) {
			if !have[p] {
				jobs = append(jobs, Job{ID: uuid.NewSHA1(backfillSpace, []byte(kind+"/"+p)).String(), PeriodKind: kind,
					Period: p, Status: Pending, Reason: Backfill, CreatedAt: now})
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	n, err := s.store.AddJobs(ctx, jobs)
	if err != nil {
		return fmt.Errorf("queue the index backfill: %w", err)
	}
	if n > 0 {
		s.logger.Info(fmt.Sprintf("index backfill queued %d periods", n), slog.Int("periods", n),
			slog.String("first_case", first.In(s.loc).Format("2006-01-02")))
	}
	return nil
}

// RunPending runs jobs until none is left to claim.
func (s *Service) RunPending(ctx context.Context) error {
	for ctx.Err() == nil {
		ran, err := s.runOne(ctx)
		if err != nil || !ran {
			return err
		}
	}
	return ctx.Err()
}

// runOne claims one job and runs it; ran is false when there was none to
// claim. A Backfill job whose period another job computed since it was
// queued is finished without computing again. When ctx ends during the
// computation the job goes back to the queue.
func (s *Service) runOne(ctx context.Context) (ran bool, err error) {
	now := s.now()
	j, ok, err := s.store.ClaimJob(ctx, s.owner, now, now.Add(JobLease))
	if err != nil || !ok {
		return false, err
	}
	start := time.Now()
	task, isTask := s.tasks[j.PeriodKind] // another kind of job than the index's (Task)
	status, text, skipped := Done, "", false
	if j.Reason == Backfill {
		var ferr error
		if skipped, ferr = s.store.HasFinishedJob(ctx, j.PeriodKind, j.Period, j.CreatedAt); ferr != nil {
			status, text = Failed, ferr.Error()
		}
	}
	var computeErr error
	if isTask && status == Done {
		computeErr = task.Run(ctx, j.Period)
	} else if status == Done && !skipped {
		computeErr = s.Compute(ctx, j.Period)
	}
	// What follows the computation is done even when ctx ends meanwhile:
	// a job left running would wait out its lease.
	after, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if computeErr != nil {
		if ctx.Err() != nil {
			return true, s.store.ReleaseJob(after, j.ID, s.owner)
		}
		status, text = Failed, computeErr.Error()
	}
	if len(text) > 500 {
		text = text[:500]
	}
	if status == Failed {
		msg := "index job failed"
		if isTask {
			msg = j.PeriodKind + " job failed"
		}
		s.logger.Warn(msg, slog.String("job", j.ID), slog.String("period", j.Period), slog.String("error", text))
	}
	if err := s.store.FinishJob(after, j.ID, s.owner, status, text, s.now()); err != nil {
		return true, err
	}
	if !isTask && status == Done && !skipped {
		if err := s.queueAfterIndex(after, j.Period); err != nil {
			return true, err
		}
	}
	ms := slog.Float64("ms", float64(time.Since(start).Microseconds())/1000)
	if isTask {
		if status == Done {
			s.logger.Info(j.PeriodKind+" job done", slog.String("job", j.ID), slog.String("period", j.Period), ms)
		}
		return true, nil
	}
	if j.Reason != Backfill {
		if status == Done {
			s.logger.Info("index computed", slog.String("job", j.ID), slog.String("period", j.Period), ms)
		}
		return true, nil
	}
	total, finished, err := s.store.CountJobs(after, Backfill)
	if err != nil {
		return true, err
	}
	s.logger.Info(fmt.Sprintf("index backfill %d/%d periods, at %s", finished, total, j.Period), slog.String("job", j.ID),
		slog.String("period", j.Period), slog.String("status", status), slog.Bool("computed_meanwhile", skipped), ms)
	return true, nil
}
