package app

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"pingan/internal/audit"
	"pingan/internal/auth"
	"pingan/internal/category"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/indicator"
	"pingan/internal/intake"
	"pingan/internal/notify"
	"pingan/internal/photo"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/user"
	"pingan/internal/warning"
)

// omit builds a constructor's arguments, leaving out the one named name;
// it notes the name of every argument given through it.
type omit struct {
	name  string
	names []string
}

// give is v, or v's zero (a nil pointer, function or interface, empty
// deadlines) when v is the argument o leaves out. The app's adapters are
// small structs, so they are given as the interface the service declares,
// whose zero is nil.
func give[T any](o *omit, name string, v T) T {
	o.names = append(o.names, name)
	if name == o.name {
		var zero T
		return zero
	}
	return v
}

// TestServicesRefuseMissingDependencies: every service takes what it needs
// through its constructor, whose parameters make leaving one out a compile
// error, and refuses a nil one at once, naming it. Each constructor is
// called with all its dependencies (it builds), then with each one missing
// in turn (it panics naming exactly that one).
func TestServicesRefuseMissingDependencies(t *testing.T) {
	a, err := Open(context.Background(), load(t, nil), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	db, now, loc, log := a.DB, time.Now, a.Config.Location, slog.New(slog.DiscardHandler)
	places := intake.NewPlaces(db, nil, intake.DefaultGridRadiusKM)
	signer, err := auth.NewSigner(a.Config.JWTKeys, now)
	if err != nil {
		t.Fatal(err)
	}

	constructors := []struct {
		name  string
		build func(o *omit)
	}{
		{"auth.NewService", func(o *omit) {
			auth.NewService(give(o, "store", db), give(o, "keys", db), give(o, "log", db), give(o, "users", db),
				give(o, "regions", db), give(o, "signer", signer), give(o, "sealer", a.Sealer), give(o, "now", now))
		}},
		{"user.NewService", func(o *omit) {
			user.NewService(give(o, "store", db), give(o, "regions", db), give(o, "log", db), give(o, "hash", auth.HashPassword),
				give(o, "policy", auth.CheckPasswordPolicy), give(o, "callers", a.Auth), give(o, "now", now))
		}},
		{"intake.NewPlaces", func(o *omit) {
			intake.NewPlaces(give(o, "regions", db), nil, intake.DefaultGridRadiusKM)
		}},
		{"region.NewService", func(o *omit) {
			region.NewService(give(o, "store", db), give(o, "log", db), give(o, "now", now))
		}},
		{"category.NewService", func(o *omit) {
			category.NewService(give(o, "store", db), give(o, "log", db), give(o, "now", now))
		}},
		{"incident.NewService", func(o *omit) {
			incident.NewService(give(o, "store", db), give(o, "regions", db), give(o, "places", places), give(o, "categories", db),
				give[incident.Index](o, "index", a.Ranking), give(o, "log", db), give(o, "loc", loc), give(o, "now", now))
		}},
		{"dispute.NewService", func(o *omit) {
			dispute.NewService(give(o, "store", db), give(o, "regions", db), give(o, "places", places), give(o, "categories", db),
				give(o, "users", db),
				give(o, "photos", db), give(o, "log", db), give[dispute.Notifier](o, "notifier", disputeNotices{a.Notify}),
				give[dispute.Index](o, "index", a.Ranking), give(o, "hasher", a.Sealer),
				give(o, "deadlines", dispute.DefaultDeadlines()), give(o, "loc", loc), give(o, "now", now))
		}},
		{"indicator.NewService", func(o *omit) {
			indicator.NewService(give(o, "store", db), give(o, "accounts", db), give(o, "regions", db), give(o, "categories", db),
				give(o, "log", db),
				give(o, "jobs", a.Ranking), give(o, "loc", loc), give(o, "now", now))
		}},
		{"ranking.NewService", func(o *omit) {
			ranking.NewService(give(o, "store", db), give(o, "indicators", db), give(o, "regions", db), give(o, "log", db),
				give(o, "loc", loc), give(o, "now", now), give(o, "logger", log))
		}},
		{"warning.NewService", func(o *omit) {
			warning.NewService(give(o, "store", db), give(o, "regions", db), give[warning.Index](o, "index", IndexResults{db}),
				give[warning.Notifier](o, "notifier", WarningNotices{a.Notify}), give(o, "log", db), warning.DefaultSettings(),
				give(o, "loc", loc), give(o, "now", now), give(o, "logger", log))
		}},
		{"photo.NewService", func(o *omit) {
			photo.NewService(give(o, "store", db), give(o, "blobs", a.Blob), give[photo.Cases](o, "cases", db),
				give(o, "log", db), give(o, "now", now)).Close()
		}},
		{"audit.NewReader", func(o *omit) {
			audit.NewReader(give(o, "store", db), give(o, "regions", db))
		}},
		{"notify.NewService", func(o *omit) {
			notify.NewService(give(o, "store", db), give(o, "outbox", db), give(o, "tx", db), give(o, "log", db),
				notify.Webhook{}, give(o, "now", now)).Close()
		}},
	}
	for _, c := range constructors {
		t.Run(c.name, func(t *testing.T) {
			all := &omit{}
			if msg := refusal(func() { c.build(all) }); msg != nil {
				t.Fatalf("refused with every dependency given: %v", msg)
			}
			for _, name := range all.names {
				want := fmt.Sprintf("%s: missing dependency %q", c.name, name)
				if msg := refusal(func() { c.build(&omit{name: name}) }); msg != want {
					t.Errorf("without %s: %v, want panic %q", name, msg, want)
				}
			}
		})
	}
}

// refusal runs f and returns what it panicked with, nil if it did not.
func refusal(f func()) (msg any) {
	defer func() { msg = recover() }()
	f()
	return nil
}
