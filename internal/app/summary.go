package app

import (
	"time"

	"github.com/google/uuid"

	"pingan/internal/ranking"
	"pingan/internal/report"
)

// summaryKind names the summary's daily-count jobs in the index's job table.
const summaryKind = "summary"

// summaryEvery is how often the summary's days are counted: a change to a
// case is in the kept days within about this plus report.Settle (until
// then a summary counts its day from the cases).
const summaryEvery = 10 * time.Minute

// summarySpace names the ids of the summary's jobs: one per slot.
var summarySpace = uuid.MustParse("5f0c8e21-3b7d-4a96-b1e4-7d2a9c6f0e83")

// summaryTask runs the period summary's daily counts (report.CountDays) on
// the index's job runner, once per summaryEvery slot across instances.
func summaryTask(r *report.Service, loc *time.Location) ranking.Task {
	return ranking.Task{
		Kind: summaryKind,
		Run:  r.CountDays,
		Due: func(now time.Time) []ranking.Job {
			local := now.In(loc)
			slot := local.Truncate(summaryEvery).Format("2006-01-02T15:04")
			return []ranking.Job{{ID: uuid.NewSHA1(summarySpace, []byte(slot)).String(), Period: local.Format(time.DateOnly),
				Reason: "schedule"}}
		},
	}
}
