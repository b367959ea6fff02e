package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/auth"
	"pingan/internal/errs"
	"pingan/internal/notify"
	"pingan/internal/wire"
)

// streamHeartbeat is the longest a stream stays silent: a comment line
// then keeps proxies and phones from taking it for dead.
const streamHeartbeat = 15 * time.Second

// notificationResponse is a notification as the API lists and streams it,
// and as the webhook sends it: one type for both (internal/wire).
type notificationResponse = wire.Notification

func newNotificationResponse(n notify.Notification) notificationResponse {
	return wire.NewNotification(n)
}

func (s *server) listNotifications(c *gin.Context) {
	if err := checkQuery(c, "unread", "limit", "cursor"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	q := notify.Query{Limit: limit + 1}
	bad := errs.FieldErrors{}
	switch c.Query("unread") {
	case "", "false":
	case "true":
		q.UnreadOnly = true
	default:
		bad.Add("unread", "true or false")
	}
	if pos, err := s.cursors.decode(c); err != nil || (pos != "" && !notify.ValidID(pos)) {
		bad.Add("cursor", "not a cursor from this API")
	} else {
		q.BeforeID = pos
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	items, err := s.notify.FindNotifications(c.Request.Context(), caller(c), q)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]notificationResponse, len(items))
	for i, n := range items {
		out[i] = newNotificationResponse(n)
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(r notificationResponse) string { return r.ID }))
}

func (s *server) readNotification(c *gin.Context) {
	// No body, or an empty object: the action carries nothing.
	data, err := readBody(c, maxJSONBody)
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		err = decodeStrict(data, &struct{}{})
	}
	if err != nil {
		writeError(c, err)
		return
	}
	n, err := s.notify.MarkRead(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newNotificationResponse(n))
}

// notificationStream sends the caller's notifications as Server-Sent Events
// until the client goes away, the server shuts down, or the session of the
// token it opened with ends (SPEC §6.1): the token expires, or the account
// is disabled or the session revoked. It then sends an "end" event naming
// the reason, and the client reconnects with a fresh token and its
// Last-Event-ID. It runs outside the request deadline, and pushes the
// connection's write deadline on before every write so that the server's
// WriteTimeout does not end it.
func (s *server) notificationStream(c *gin.Context) {
	token, _ := bearerToken(c.GetHeader("Authorization"))
	sess, err := s.auth.OpenSession(c.Request.Context(), token)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="pingan", error="invalid_token"`)
		writeError(c, err)
		return
	}
	sub, err := s.notify.Subscribe(c.Request.Context(), caller(c), c.GetHeader("Last-Event-ID"))
	if err != nil {
		writeError(c, err)
		return
	}
	defer sub.Close()
	ctx, release := s.auth.Hold(unbounded(c), sess)
	defer release()
	rc := http.NewResponseController(c.Writer)
	// The request was read long ago; a read deadline passing now would
	// cancel the request's context and end the stream.
	_ = rc.SetReadDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // proxies must pass events on at once
	c.Status(http.StatusOK)
	send := func(b []byte) bool {
		// Not supported by test recorders; the error is then harmless.
		_ = rc.SetWriteDeadline(time.Now().Add(streamHeartbeat + 15*time.Second))
		if _, err := c.Writer.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 3000\n\n")) {
		return
	}
	for {
		ns, err := sub.Next(ctx, time.Now().Add(streamHeartbeat))
		if err != nil {
			if ended := context.Cause(ctx); errors.Is(ended, errs.ErrUnauthenticated) {
				send(streamEnd(ended))
				return
			}
			if ctx.Err() == nil && !errors.Is(err, notify.ErrStreamsEnded) {
				logger(c).Warn("notification stream ended", slog.String("error", err.Error()))
			}
			return
		}
		var buf bytes.Buffer
		if len(ns) == 0 {
			buf.WriteString(": heartbeat\n\n")
		}
		for _, n := range ns {
			data, _ := json.Marshal(newNotificationResponse(n))
			fmt.Fprintf(&buf, "id: %s\nevent: notification\ndata: %s\n\n", n.ID, data)
		}
		if !send(buf.Bytes()) {
			return
		}
	}
}

// streamEnd is the last event of a stream whose session ended: the reason
// tells the client to refresh its token (token_expired) or that refreshing
// will not do (session_ended: log in again). It has no id, so the client's
// Last-Event-ID stays the last notification's.
func streamEnd(cause error) []byte {
	reason := "session_ended"
	if errors.Is(cause, auth.ErrTokenExpired) {
		reason = "token_expired"
	}
	return []byte("event: end\ndata: {\"reason\":\"" + reason + "\"}\n\n")
}
