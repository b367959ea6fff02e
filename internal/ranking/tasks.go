package ranking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// Task is another kind of job this runner runs beside the index's periods,
// under the same leases, so that it too runs exactly once across instances
// (SPEC §10.3: warning detection). Its jobs carry PeriodKind = Kind and a
// Period the task reads.
type Task struct {
	// Kind names the task's jobs: at most 8 characters, not a period kind.
	Kind string
	// Run does one job's work; it must be safe to repeat (a job whose
	// instance died runs again).
	Run func(ctx context.Context, period string) error
	// Due lists the jobs to queue when the scheduler runs (every
	// QueueEvery), in the order they should run. Their ids must derive from what they do: a job whose id
	// exists is not queued again, so instances queueing at once add it once.
	Due func(now time.Time) []Job
	// Late lists the jobs a case that occurred at t, reported now, needs
	// (queued with the report, as the index's own LateJobs are).
	Late func(t, now time.Time) []Job
	// AfterIndex lists the jobs to queue once the index of a period
	// ("2026-11" or "2026-11-29") is computed; a pending job of the same
	// period covers one.
	AfterIndex func(period string, now time.Time) []Job
}

// addTask makes the runner run jobs of t.Kind (NewService).
func (s *Service) addTask(t Task) {
	_, taken := s.tasks[t.Kind]
	if len(t.Kind) == 0 || len(t.Kind) > 8 || t.Kind == indicator.Day || t.Kind == indicator.Month || t.Run == nil || taken {
		panic(fmt.Sprintf("ranking.NewService: a task needs a kind of its own of 1 to 8 characters other than a period's, "+
			"and Run (kind %q)", t.Kind))
	}
	s.tasks[t.Kind] = t
}

// queueTasks queues the tasks' due jobs.
func (s *Service) queueTasks(ctx context.Context, now time.Time) error {
	for _, t := range s.tasks {
		if t.Due == nil {
			continue
		}
		// A microsecond apart, so that the runner (oldest first) takes them
		// in the order Due lists them.
		for i, j := range t.Due(now) {
			j.PeriodKind, j.Status, j.CreatedAt = t.Kind, Pending, now.Add(time.Duration(i)*time.Microsecond)
			if err := s.store.CreateJob(ctx, j); err != nil && !errors.Is(err, errs.ErrConflict) {
				return fmt.Errorf("queue %s job: %w", t.Kind, err)
			}
		}
	}
	return nil
}

// lateTaskJobs are the tasks' jobs for a case that occurred at t.
func (s *Service) lateTaskJobs(t, now time.Time) []Job {
	var out []Job
	for _, task := range s.tasks {
		if task.Late == nil {
			continue
		}
		for _, j := range task.Late(t, now) {
			j.PeriodKind, j.Status, j.CreatedAt = task.Kind, Pending, now
			out = append(out, j)
		}
	}
	return out
}

// queueAfterIndex queues the tasks' jobs that follow the computation of a
// period's index.
func (s *Service) queueAfterIndex(ctx context.Context, period string) error {
	for _, t := range s.tasks {
		if t.AfterIndex == nil {
			continue
		}
		for _, j := range t.AfterIndex(period, s.now()) {
			j.PeriodKind, j.Status, j.CreatedAt = t.Kind, Pending, s.now()
			if _, err := s.store.QueueJob(ctx, j); err != nil {
				return fmt.Errorf("queue %s job: %w", t.Kind, err)
			}
		}
	}
	return nil
}
