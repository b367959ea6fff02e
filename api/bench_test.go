package api_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
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

// BenchmarkPhotoComplete times POST /uploads/{id}/complete for a 3 MiB
// 4000×3000 JPEG already uploaded to MinIO through its presigned policy
// (SPEC §13.1: ≤ 150 ms). Only the complete call is timed: the check of the
// object, the metadata removal, the copy under photos/, the rows and the
// deletion of the tmp object. The thumbnail is made in the background.
//
//	go test ./api/ -run '^$' -bench PhotoComplete -benchtime 20x
func BenchmarkPhotoComplete(b *testing.B) {
	e := newEnv(b, "mysql")
	e.skipSpec = true
	token := e.login(b, "demo-gridworker")
	raw := benchPhoto(b)
	b.Logf("photo: 4000×3000 JPEG of %d bytes", len(raw))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		b.StopTimer()
		up := phCreateUpload(b, e, token, "image/jpeg", len(raw))
		if code, body := phPolicyPost(b, up["url"].(string), up["fields"].(map[string]any), raw); code != 204 {
			b.Fatalf("MinIO answered %d %s", code, body)
		}
		b.StartTimer()
		if r := phComplete(b, e, token, up["upload_id"].(string)); r.Code != 201 {
			b.Fatalf("%d %s", r.Code, r.Body)
		}
	}
}

// benchPhoto is a photo-like 4000×3000 JPEG of about 3 MiB: a gradient with
// grain, which keeps the entropy coder as busy as a real photo does.
func benchPhoto(b *testing.B) []byte {
	const w, h = 4000, 3000
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Y[y*img.YStride+x] = uint8((x*255/w+y*255/h)/2 + rng.IntN(20) + 2)
		}
	}
	for y := range h / 2 {
		for x := range w / 2 {
			img.Cb[y*img.CStride+x] = uint8(x * 255 / (w / 2))
			img.Cr[y*img.CStride+x] = uint8(y * 255 / (h / 2))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
