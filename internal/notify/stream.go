package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/errs"
)

// Stream limits and timing.
const (
	// MaxStreamsPerUser bounds one user's open streams on one instance.
	MaxStreamsPerUser = 5
	// PollInterval is how often an open stream looks in the database for
	// notifications written by other instances (this instance's own wake
	// the stream at once).
	PollInterval = time.Second
	// Lookback is how far before the newest notification a stream keeps
	// looking. Ids are made when a notification is written, not when its
	// transaction commits: a slow transaction (request deadline 10 s) can
	// commit an id older than one already sent.
	Lookback = 15 * time.Second
	// pollBatch is the most rows one query reads.
	pollBatch = 100
	// pollTimeout bounds one query of a stream.
	pollTimeout = 5 * time.Second
)

// ErrStreamsEnded is returned by Subscription.Next when the server is
// shutting down.
var ErrStreamsEnded = fmt.Errorf("the server is shutting down: %w", errs.ErrUnavailable)

// Subscription is one open stream of a user's new notifications.
type Subscription struct {
	s      *Service
	userID string
	wakeup chan struct{}
	// floor: ids at or below it are never sent (what existed when the
	// stream opened, or what the client had seen).
	floor string
	// sent holds the ids sent within the lookback window, so that a row
	// seen again there is not sent twice; newest is the greatest of them.
	sent   map[string]bool
	newest string
	closed bool
}

// Subscribe opens a stream of p's notifications. With lastEventID (the id
// of the last notification the client received) the stream first returns
// every later notification, oldest first; without it, only notifications
// written from now on. Returns errs.FieldErrors for an id that is not a
// notification id, an errs.RateLimitError when p already has
// MaxStreamsPerUser streams open on this instance, and errs.ErrUnavailable
// once the streams have been ended. Close the subscription when done.
func (s *Service) Subscribe(ctx context.Context, p access.Principal, lastEventID string) (*Subscription, error) {
	if lastEventID != "" && !ValidID(lastEventID) {
		return nil, errs.Invalid("Last-Event-ID", "the id of a notification")
	}
	sub := &Subscription{s: s, userID: p.UserID, wakeup: make(chan struct{}, 1), floor: lastEventID, sent: map[string]bool{}}
	s.mu.Lock()
	select {
	case <-s.ended:
		s.mu.Unlock()
		return nil, ErrStreamsEnded
	default:
	}
	if len(s.streams[p.UserID]) >= MaxStreamsPerUser {
		s.mu.Unlock()
		return nil, &errs.RateLimitError{RetryAfterSeconds: 15}
	}
	if s.streams[p.UserID] == nil {
		s.streams[p.UserID] = map[*Subscription]struct{}{}
	}
	s.streams[p.UserID][sub] = struct{}{}
	s.mu.Unlock()
	if lastEventID == "" {
		latest, err := s.store.LatestNotificationID(ctx, p.UserID)
		if err != nil {
			sub.Close()
			return nil, err
		}
		sub.floor = latest
	}
	return sub, nil
}

// Close releases the subscription's place; it is safe to call twice.
func (sub *Subscription) Close() {
	s := sub.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.closed {
		return
	}
	sub.closed = true
	delete(s.streams[sub.userID], sub)
	if len(s.streams[sub.userID]) == 0 {
		delete(s.streams, sub.userID)
	}
}

// Next waits for notifications not yet sent and returns them, oldest
// first. It returns nothing and no error when until passes first (time for
// a heartbeat), ctx's error when ctx ends, and ErrStreamsEnded when the
// server shuts down. Database errors end the stream too; the client
// reconnects with its Last-Event-ID.
func (sub *Subscription) Next(ctx context.Context, until time.Time) ([]Notification, error) {
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	for {
		ns, err := sub.poll(ctx)
		if err != nil || len(ns) > 0 {
			return ns, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-sub.s.ended:
			return nil, ErrStreamsEnded
		case <-timer.C:
			return nil, nil
		case <-sub.wakeup:
		case <-ticker.C:
		}
	}
}

// poll reads what the stream has not sent yet. While catching up on rows
// older than the lookback window it pages strictly after the newest sent;
// within the window it reads the whole window and skips what it sent.
func (sub *Subscription) poll(ctx context.Context) ([]Notification, error) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	window := idAt(time.Now().Add(-Lookback))
	after := max(sub.floor, min(sub.newest, window))
	if sub.newest == "" {
		after = sub.floor
	}
	for id := range sub.sent {
		if id <= after {
			delete(sub.sent, id)
		}
	}
	var out []Notification
	for {
		rows, err := sub.s.store.FindNotifications(ctx, Filter{UserID: sub.userID, Ascending: true, AfterID: after, Limit: pollBatch})
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("stream poll: %v: %w", err, errs.ErrUnavailable)
			}
			return nil, err
		}
		for _, n := range rows {
			if sub.sent[n.ID] {
				continue
			}
			sub.sent[n.ID] = true
			sub.newest = max(sub.newest, n.ID)
			out = append(out, n)
		}
		if len(rows) < pollBatch || len(out) >= pollBatch {
			return out, nil
		}
		after = rows[len(rows)-1].ID
	}
}

// idAt is the smallest UUIDv7 of the millisecond t: ids of notifications
// made at or after t sort after it.
func idAt(t time.Time) string {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = 0x70
	u[8] = 0x80
	return u.String()
}

// wake tells this instance's open streams of users to look now.
func (s *Service) wake(users []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		for sub := range s.streams[u] {
			select {
			case sub.wakeup <- struct{}{}:
			default: // already due to look
			}
		}
	}
}

// EndStreams ends every open stream and refuses new ones: the server is
// shutting down (http.Server.RegisterOnShutdown), and a stream would
// otherwise hold its connection open until the shutdown timeout.
func (s *Service) EndStreams() {
	s.endOnce.Do(func() { close(s.ended) })
}

// OpenStreams counts the open streams of userID on this instance.
func (s *Service) OpenStreams(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams[userID])
}
