package api_test

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkIngest reports incidents through the real router on MariaDB, in
// parallel: the in-process half of SPEC §13.1's ingest benchmark (the
// server benchmark is scripts/bench.sh). Run with the test services up:
//
//	go test ./api/ -run '^$' -bench Ingest -benchtime 3s
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, "mysql")
	e.skipSpec = true
	token := e.login(b, "demo-gridworker")
	body := incidentBody(nil)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := e.do(b, req{method: "POST", path: "/api/v1/incidents", token: token, body: body,
				header: map[string]string{"Idempotency-Key": fmt.Sprintf("bench-%d", n.Add(1))}})
			if r.Code != 201 {
				b.Errorf("%d %s", r.Code, r.Body)
				return
			}
		}
	})
}
