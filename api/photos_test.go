package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"pingan/internal/blob"
	"pingan/internal/errs"
	"pingan/internal/photo"
)

// phGpsLatitude is the rational triple written into the test photo's GPS IFD
// (37° 27' 30.1234"); its bytes must not survive the upload.
var phGpsLatitude = []uint32{37, 1, 27, 1, 301234, 10000}

// phExifAPP1 builds an APP1 segment by hand: "Exif\0\0", a big-endian TIFF
// header, IFD0 with Orientation and a GPSInfo pointer, and a GPS IFD with
// version, latitude and longitude.
func phExifAPP1(orientation uint16) []byte {
	bo := binary.BigEndian
	var t bytes.Buffer
	u16 := func(v uint16) { _ = binary.Write(&t, bo, v) }
	u32 := func(v uint32) { _ = binary.Write(&t, bo, v) }
	entry := func(tag, typ uint16, phCount uint32, value []byte) {
		u16(tag)
		u16(typ)
		u32(phCount)
		var v [4]byte
		copy(v[:], value)
		t.Write(v[:])
	}
	be32 := func(v uint32) []byte { b := make([]byte, 4); bo.PutUint32(b, v); return b }
	be16 := func(v uint16) []byte { b := make([]byte, 2); bo.PutUint16(b, v); return b }

	const (
		ifd0At   = 8
		ifd0Len  = 2 + 2*12 + 4
		gpsAt    = ifd0At + ifd0Len // 38
		gpsCount = 5
		gpsLen   = 2 + gpsCount*12 + 4
		latAt    = gpsAt + gpsLen // 104
		lngAt    = latAt + 24
	)
	t.WriteString("MM")
	u16(42)
	u32(ifd0At)
	// IFD0
	u16(2)
	entry(0x0112, 3, 1, be16(orientation)) // Orientation, SHORT
	entry(0x8825, 4, 1, be32(gpsAt))       // GPSInfo, LONG
	u32(0)
	// GPS IFD
	u16(gpsCount)
	entry(0x0000, 1, 4, []byte{2, 3, 0, 0}) // GPSVersionID
	entry(0x0001, 2, 2, []byte("N\x00"))    // GPSLatitudeRef
	entry(0x0002, 5, 3, be32(latAt))        // GPSLatitude
	entry(0x0003, 2, 2, []byte("E\x00"))    // GPSLongitudeRef
	entry(0x0004, 5, 3, be32(lngAt))        // GPSLongitude
	u32(0)
	for _, v := range phGpsLatitude {
		u32(v)
	}
	for _, v := range []uint32{118, 1, 35, 1, 123456, 10000} {
		u32(v)
	}

	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xff, 0xe1, 0, 0}
	bo.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// phGpsJPEG is a 40×20 JPEG, left half red and right half blue, carrying
// EXIF with GPS tags and Orientation 6 (turn 90° clockwise to view).
func phGpsJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for y := 0; y < 20; y++ {
		for x := 0; x < 40; x++ {
			c := color.RGBA{R: 255, A: 255}
			if x >= 20 {
				c = color.RGBA{B: 255, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	out := append([]byte{}, raw[:2]...) // SOI
	out = append(out, phExifAPP1(6)...)
	return append(out, raw[2:]...)
}

// phPlainJPEG is a small JPEG without metadata.
func phPlainJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// phMultipartBody puts data into the form field "file" with the given type.
func phMultipartBody(t testing.TB, data []byte, ctype string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="photo.jpg"`)
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// phUploadPhoto sends data to POST /api/v1/photos as multipart.
func phUploadPhoto(t testing.TB, e *env, token string, data []byte) resp {
	t.Helper()
	body, ctype := phMultipartBody(t, data, "image/jpeg")
	return e.do(t, req{method: "POST", path: "/api/v1/photos", token: token, body: body,
		header: map[string]string{"Content-Type": ctype}})
}

// phNewPhoto uploads a plain JPEG and returns the photo id.
func phNewPhoto(t testing.TB, e *env, token string) string {
	t.Helper()
	r := phUploadPhoto(t, e, token, phPlainJPEG(t, 16, 16))
	expect(t, r, 201, "")
	return r.json(t)["photo_id"].(string)
}

// phFetchPhoto reads a photo (or its thumbnail) the way a client does: the
// bytes from the file store, or a 302 to a presigned MinIO URL, which is
// followed. It returns the bytes and their Content-Type.
func phFetchPhoto(t testing.TB, e *env, token, id string, thumb bool) ([]byte, string) {
	t.Helper()
	path := "/api/v1/photos/" + id
	if thumb {
		path += "/thumb"
	}
	r := e.do(t, req{method: "GET", path: path, token: token})
	if e.app.Config.Blob == "" || strings.HasPrefix(e.app.Config.Blob, "file://") {
		expect(t, r, 200, "")
		if len(r.Header.Get("ETag")) < 3 {
			t.Fatalf("GET %s: no ETag", path)
		}
		return r.Body, r.Header.Get("Content-Type")
	}
	expect(t, r, 302, "")
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		t.Fatalf("GET %s: Location %q", path, loc)
	}
	hr, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	data, err := io.ReadAll(hr.Body)
	if err != nil {
		t.Fatal(err)
	}
	if hr.StatusCode != 200 {
		t.Fatalf("GET presigned %s: %d %s", loc, hr.StatusCode, data)
	}
	return data, hr.Header.Get("Content-Type")
}

// phOrientationOnly is the only metadata a stored JPEG keeps: an APP1
// segment whose EXIF holds Orientation 6 and nothing else.
var phOrientationOnly = []byte("\xff\xe1\x00\x22Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01" +
	"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")

// phCheckNoMetadata fails unless data is a JPEG whose segments before the
// scan are tables and frame only, apart from the one-tag orientation
// segment when orientation is set, and holds no trace of the GPS bytes.
func phCheckNoMetadata(t testing.TB, data []byte, orientation bool) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte{0xff, 0xd8}) {
		t.Fatalf("not a JPEG: % x", data[:min(len(data), 8)])
	}
	rest := data[2:]
	if orientation {
		if !bytes.HasPrefix(rest, phOrientationOnly) {
			t.Fatalf("the photo does not start with the orientation-only EXIF: % x", rest[:min(len(rest), 40)])
		}
		rest = rest[len(phOrientationOnly):]
	}
	for p := 0; p+4 <= len(rest) && rest[p] == 0xff; {
		marker := rest[p+1]
		if marker == 0xda {
			break
		}
		if marker >= 0xe0 && marker <= 0xef || marker == 0xfe {
			t.Fatalf("an APPn/COM segment %#x survived at offset %d", marker, p)
		}
		p += 2 + int(binary.BigEndian.Uint16(rest[p+2:]))
	}
	var lat bytes.Buffer
	for _, v := range phGpsLatitude {
		_ = binary.Write(&lat, binary.BigEndian, v)
	}
	for _, needle := range [][]byte{[]byte("GPS"), []byte("II\x2a\x00"), lat.Bytes()} {
		if bytes.Contains(data, needle) {
			t.Fatalf("the stored photo still holds %q", needle)
		}
	}
}

// phCheckUpright fails unless data, shown as a viewer shows it (EXIF
// orientation applied), is 20×40 with red on top and blue below: the 40×20
// left-red photo turned for Orientation 6.
func phCheckUpright(t testing.TB, data []byte) {
	t.Helper()
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("decoded %d×%d, want 20×40", b.Dx(), b.Dy())
	}
	isRed := func(c color.Color) bool {
		r, g, b, _ := c.RGBA()
		return r > 0xc000 && g < 0x4000 && b < 0x4000
	}
	isBlue := func(c color.Color) bool {
		r, g, b, _ := c.RGBA()
		return b > 0xc000 && r < 0x4000 && g < 0x4000
	}
	for _, p := range []image.Point{{5, 5}, {10, 10}, {15, 15}} {
		if c := img.At(p.X, p.Y); !isRed(c) {
			t.Fatalf("pixel %v of the top half is %v, want red", p, c)
		}
	}
	for _, p := range []image.Point{{5, 25}, {10, 30}, {15, 35}} {
		if c := img.At(p.X, p.Y); !isBlue(c) {
			t.Fatalf("pixel %v of the bottom half is %v, want blue", p, c)
		}
	}
}

func phCount(t testing.TB, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func phUserID(t testing.TB, e *env, token string) string {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/me", token: token})
	expect(t, r, 200, "")
	return r.json(t)["id"].(string)
}

func phNewIncident(t testing.TB, e *env, token string, photoIDs []string) resp {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/incidents", token: token, body: map[string]any{
		"category": "public_order", "severity": "low", "description": "x",
		"location":    map[string]any{"lat": 37.45, "lng": 118.58, "address": "a"},
		"occurred_at": e.clock.now().Format(time.RFC3339), "photo_ids": photoIDs,
	}})
}

// phExists reports whether the object exists, failing on other errors.
func phExists(t testing.TB, e *env, key string) bool {
	t.Helper()
	_, err := e.app.Blob.Stat(context.Background(), key)
	if errors.Is(err, errs.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	return true
}

// phPhotoKeys returns the object keys of a photo and its thumbnail.
func phPhotoKeys(t testing.TB, e *env, id string) (string, string) {
	t.Helper()
	var key, thumb string
	if err := e.app.DB.SQL().QueryRow("SELECT object_key, thumb_key FROM photos WHERE id = ?", id).Scan(&key, &thumb); err != nil {
		t.Fatal(err)
	}
	return key, thumb
}

func phTmpObjects(t testing.TB, e *env) []string {
	t.Helper()
	objs, err := e.app.Blob.List(context.Background(), "tmp/", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func phOnMinio(e *env) bool { return strings.HasPrefix(e.app.Config.Blob, "minio://") }

func TestPhotoUploadStripsMetadata(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		worker := e.login(t, "demo-gridworker")
		raw := phGpsJPEG(t)
		if !bytes.Contains(raw, []byte("Exif\x00\x00MM")) {
			t.Fatal("the test photo carries no EXIF")
		}
		r := phUploadPhoto(t, e, worker, raw)
		expect(t, r, 201, "")
		got := r.json(t)
		id, _ := got["photo_id"].(string)
		if id == "" || got["content_type"] != "image/jpeg" || got["width"] != 20.0 || got["height"] != 40.0 {
			t.Fatalf("upload: %s", r.Body)
		}
		// The thumbnail is made in the background, without a request for it.
		_, thumbKey := phPhotoKeys(t, e, id)
		for deadline := time.Now().Add(10 * time.Second); !phExists(t, e, thumbKey); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no thumbnail 10 s after the upload")
			}
		}
		for _, thumb := range []bool{false, true} {
			data, ctype := phFetchPhoto(t, e, worker, id, thumb)
			if ctype != "image/jpeg" {
				t.Fatalf("thumb=%v: Content-Type %q", thumb, ctype)
			}
			phCheckNoMetadata(t, data, !thumb)
			phCheckUpright(t, data)
			if !thumb {
				sum := sha256.Sum256(data)
				if got["sha256"] != hex.EncodeToString(sum[:]) || got["size"] != float64(len(data)) {
					t.Fatalf("size/sha256 in %s do not describe the %d bytes served", r.Body, len(data))
				}
			}
		}
		key, thumb := phPhotoKeys(t, e, id)
		if !strings.HasPrefix(key, "photos/") || !strings.HasPrefix(thumb, "thumbs/") || !phExists(t, e, key) || !phExists(t, e, thumb) {
			t.Fatalf("objects %q, %q", key, thumb)
		}
		// Both stores honour If-None-Match (MinIO before its redirect).
		{
			r := e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: worker})
			if r.Header.Get("ETag") == "" {
				t.Fatalf("no ETag on %d", r.Code)
			}
			r2 := e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: worker,
				header: map[string]string{"If-None-Match": r.Header.Get("ETag")}})
			expect(t, r2, 304, "")
		}

		// An unattached photo is its uploader's only.
		for _, who := range []string{"demo-gridworker-2", "demo-supervisor", "demo-county-supervisor", "demo-admin"} {
			tok := e.login(t, who)
			expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: tok}), 404, "not_found")
			expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id + "/thumb", token: tok}), 404, "not_found")
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/0190a0b0-0000-7000-8000-000000000000", token: worker}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/not-a-uuid", token: worker}), 404, "not_found")

		// Not an image, or too large: refused, nothing stored.
		before := phCount(t, e, "photos")
		html := []byte("<!doctype html><html><body><script>alert(1)</script></body></html>")
		expect(t, phUploadPhoto(t, e, worker, html), 400, "invalid_argument")
		expect(t, phUploadPhoto(t, e, worker, raw[:200]), 400, "invalid_argument")
		big := append(append([]byte{}, raw...), bytes.Repeat([]byte{0}, 11<<20)...)
		expect(t, phUploadPhoto(t, e, worker, big), 413, "too_large")
		if n := phCount(t, e, "photos"); n != before {
			t.Fatalf("photos %d after refusals, want %d", n, before)
		}
		objs, err := e.app.Blob.List(context.Background(), "photos/", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != before {
			t.Fatalf("%d objects under photos/ for %d photos", len(objs), before)
		}
	})
}

func TestPhotoAttachScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		worker := e.login(t, "demo-gridworker")
		other := e.login(t, "demo-gridworker-2")
		r := phUploadPhoto(t, e, worker, phGpsJPEG(t))
		expect(t, r, 201, "")
		id := r.json(t)["photo_id"].(string)

		r = phNewIncident(t, e, worker, []string{id})
		expect(t, r, 201, "")
		inc := r.json(t)
		if ids, _ := inc["photo_ids"].([]any); len(ids) != 1 || ids[0] != id {
			t.Fatalf("incident photo_ids: %s", r.Body)
		}
		r = e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string), token: worker})
		expect(t, r, 200, "")
		if ids, _ := r.json(t)["photo_ids"].([]any); len(ids) != 1 || ids[0] != id {
			t.Fatalf("incident read back: %s", r.Body)
		}

		// Now the case's scope decides.
		for _, who := range []string{"demo-gridworker", "demo-supervisor", "demo-county-supervisor", "demo-admin"} {
			data, _ := phFetchPhoto(t, e, e.login(t, who), id, false)
			phCheckUpright(t, data)
			phFetchPhoto(t, e, e.login(t, who), id, true)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id, token: other}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + id + "/thumb", token: other}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string), token: other}), 404, "not_found")

		// A photo belongs to one case only.
		incidents := phCount(t, e, "incidents")
		r = phNewIncident(t, e, worker, []string{id})
		expect(t, r, 400, "invalid_argument")
		if n := phCount(t, e, "incidents"); n != incidents {
			t.Fatalf("incidents %d, want %d", n, incidents)
		}
		var caseID string
		if err := e.app.DB.SQL().QueryRow("SELECT case_id FROM photos WHERE id = ?", id).Scan(&caseID); err != nil || caseID != inc["id"] {
			t.Fatalf("photo case %q, %v; want %v", caseID, err, inc["id"])
		}

		// Another user's photo cannot be attached, even with one's own.
		theirs := phNewPhoto(t, e, other)
		mine := phNewPhoto(t, e, worker)
		r = phNewIncident(t, e, worker, []string{mine, theirs})
		expect(t, r, 400, "invalid_argument")
		// Nor a photo that does not exist.
		expect(t, phNewIncident(t, e, worker, []string{"0190a0b0-0000-7000-8000-000000000000"}), 400, "invalid_argument")
		if n := phCount(t, e, "incidents"); n != incidents {
			t.Fatalf("incidents %d, want %d", n, incidents)
		}
		var unattached int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM photos WHERE id IN (?, ?) AND case_id IS NULL", mine, theirs).Scan(&unattached); err != nil || unattached != 2 {
			t.Fatalf("%d of the refused photos still unattached (%v), want 2", unattached, err)
		}
		// The owner may still attach theirs.
		r = phNewIncident(t, e, other, []string{theirs})
		expect(t, r, 201, "")
		phFetchPhoto(t, e, other, theirs, false)
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + theirs, token: worker}), 404, "not_found")
		phFetchPhoto(t, e, e.login(t, "demo-supervisor"), theirs, false)
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/photos/" + theirs, token: e.login(t, "demo-county-supervisor")}), 404, "not_found")
	})
}

// phPolicyPost uploads data to MinIO with a presigned POST's fields (fields
// first, then the file) and returns the status and body.
func phPolicyPost(t testing.TB, url string, fields map[string]any, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v.(string)); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	hr, err := http.Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	body, _ := io.ReadAll(hr.Body)
	return hr.StatusCode, string(body)
}

// phCreateUpload asks for a policy and returns the response's fields.
func phCreateUpload(t testing.TB, e *env, token, ctype string, size int) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/uploads", token: token, body: map[string]any{"content_type": ctype, "size": size}})
	expect(t, r, 201, "")
	return r.json(t)
}

func phComplete(t testing.TB, e *env, token, uploadID string) resp {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/uploads/" + uploadID + "/complete", token: token})
}

func TestPhotoPresignedUpload(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		worker := e.login(t, "demo-gridworker")
		if !phOnMinio(e) {
			r := e.do(t, req{method: "POST", path: "/api/v1/uploads", token: worker, body: map[string]any{"content_type": "image/jpeg", "size": 1000}})
			expect(t, r, 422, "unprocessable")
			if n := phCount(t, e, "uploads"); n != 0 {
				t.Fatalf("%d uploads rows on the file store", n)
			}
			return
		}
		ctx := context.Background()
		uid := phUserID(t, e, worker)
		raw := phGpsJPEG(t)

		// The happy path.
		start := time.Now()
		up := phCreateUpload(t, e, worker, "image/jpeg", len(raw))
		uploadID, _ := up["upload_id"].(string)
		fields, _ := up["fields"].(map[string]any)
		url, _ := up["url"].(string)
		exp, err := time.Parse(time.RFC3339, up["expires_at"].(string))
		if err != nil || uploadID == "" || url == "" || len(fields) == 0 {
			t.Fatalf("policy: %v %+v", err, up)
		}
		if exp.Before(start) || exp.After(time.Now().Add(photo.PolicyTTL)) {
			t.Fatalf("expires_at %s is not within 15 minutes of now", exp)
		}
		tmpKey := "tmp/" + uid + "/" + uploadID
		if fields["key"] != tmpKey || fields["Content-Type"] != "image/jpeg" {
			t.Fatalf("fields %v; want key %s and Content-Type image/jpeg", fields, tmpKey)
		}
		if code, body := phPolicyPost(t, url, fields, raw); code != 204 {
			t.Fatalf("MinIO answered %d %s", code, body)
		}
		if !phExists(t, e, tmpKey) {
			t.Fatal("the upload is not in MinIO")
		}
		photos := phCount(t, e, "photos")
		// Someone else's upload is not found.
		expect(t, phComplete(t, e, e.login(t, "demo-gridworker-2"), uploadID), 404, "not_found")
		expect(t, phComplete(t, e, worker, "0190a0b0-0000-7000-8000-000000000000"), 404, "not_found")
		r := phComplete(t, e, worker, uploadID)
		expect(t, r, 201, "")
		done := r.json(t)
		id, _ := done["photo_id"].(string)
		if id == "" || done["width"] != 20.0 || done["height"] != 40.0 {
			t.Fatalf("complete: %s", r.Body)
		}
		if phExists(t, e, tmpKey) {
			t.Fatal("the tmp object outlived complete")
		}
		key, thumb := phPhotoKeys(t, e, id)
		if !strings.HasPrefix(key, "photos/") || !strings.HasPrefix(thumb, "thumbs/") || !phExists(t, e, key) {
			t.Fatalf("photo objects %q %q", key, thumb)
		}
		if n := phCount(t, e, "photos"); n != photos+1 {
			t.Fatalf("photos %d, want %d", n, photos+1)
		}
		data, _ := phFetchPhoto(t, e, worker, id, false)
		phCheckNoMetadata(t, data, true)
		phCheckUpright(t, data)
		// The thumbnail is made in the background, or on the first request.
		thumbData, _ := phFetchPhoto(t, e, worker, id, true)
		phCheckNoMetadata(t, thumbData, false)
		phCheckUpright(t, thumbData)
		// Completing again is a conflict (a new Idempotency-Key each time).
		expect(t, phComplete(t, e, worker, uploadID), 409, "conflict")
		if n := phCount(t, e, "photos"); n != photos+1 {
			t.Fatalf("photos %d after the second phComplete, want %d", n, photos+1)
		}

		noneLeft := func(what string, photos int) {
			t.Helper()
			if keys := phTmpObjects(t, e); len(keys) != 0 {
				t.Fatalf("%s: objects left under tmp/: %v", what, keys)
			}
			if n := phCount(t, e, "photos"); n != photos {
				t.Fatalf("%s: photos %d, want %d", what, n, photos)
			}
		}
		photos = phCount(t, e, "photos")

		// Refused when asking: too large, not an image type, no size.
		for _, body := range []map[string]any{
			{"content_type": "image/jpeg", "size": 11 << 20},
			{"content_type": "text/html", "size": 100},
			{"content_type": "image/gif", "size": 100},
			{"content_type": "image/jpeg", "size": 0},
			{"content_type": "image/jpeg", "size": 100, "sha256": "xyz"},
			{"content_type": "image/jpeg"},
		} {
			uploads := phCount(t, e, "uploads")
			r := e.do(t, req{method: "POST", path: "/api/v1/uploads", token: worker, body: body})
			expect(t, r, 400, "invalid_argument")
			if n := phCount(t, e, "uploads"); n != uploads {
				t.Fatalf("%v: uploads %d, want %d", body, n, uploads)
			}
		}
		noneLeft("refused policies", photos)

		// An 11 MiB file under a 10 MiB policy: MinIO refuses it.
		up = phCreateUpload(t, e, worker, "image/jpeg", photo.MaxBytes)
		big := append(append([]byte{}, raw...), bytes.Repeat([]byte{0}, 11<<20-len(raw))...)
		if code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), big); code != 400 || !strings.Contains(body, "EntityTooLarge") {
			t.Fatalf("11 MiB: MinIO answered %d %s", code, body)
		}
		expect(t, phComplete(t, e, worker, up["upload_id"].(string)), 400, "invalid_argument")
		noneLeft("11 MiB", photos)

		// Another type than the policy's: MinIO refuses it.
		up = phCreateUpload(t, e, worker, "image/jpeg", len(raw))
		f := map[string]any{}
		for k, v := range up["fields"].(map[string]any) {
			f[k] = v
		}
		f["Content-Type"] = "text/html"
		if code, body := phPolicyPost(t, up["url"].(string), f, raw); code != 403 {
			t.Fatalf("text/html under an image/jpeg policy: MinIO answered %d %s", code, body)
		}
		noneLeft("text/html", photos)

		// HTML bytes declared as image/jpeg reach MinIO, but phComplete
		// reads the real type, refuses and deletes them.
		html := []byte("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>")
		up = phCreateUpload(t, e, worker, "image/jpeg", len(html))
		if code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), html); code != 204 {
			t.Fatalf("HTML as image/jpeg: MinIO answered %d %s", code, body)
		}
		if len(phTmpObjects(t, e)) != 1 {
			t.Fatal("the HTML upload is not in MinIO")
		}
		expect(t, phComplete(t, e, worker, up["upload_id"].(string)), 400, "invalid_argument")
		noneLeft("HTML as image/jpeg", photos)

		// A size other than the declared one: the policy admits exactly the
		// declared size, so MinIO itself refuses more or fewer bytes, and
		// complete finds nothing.
		for _, declared := range []int{10, len(raw) - 1, len(raw) + 1, photo.MaxBytes} {
			up = phCreateUpload(t, e, worker, "image/jpeg", declared)
			code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), raw)
			want := "EntityTooLarge"
			if declared > len(raw) {
				want = "EntityTooSmall"
			}
			if code != 400 || !strings.Contains(body, want) {
				t.Fatalf("%d bytes under a policy for %d: MinIO answered %d %s", len(raw), declared, code, body)
			}
			r := phComplete(t, e, worker, up["upload_id"].(string))
			expect(t, r, 400, "invalid_argument")
			if got := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)["upload"]; got != "nothing was uploaded under this policy" {
				t.Fatalf("complete after a refused upload: %s", r.Body)
			}
			noneLeft("size mismatch", photos)
		}

		// A checksum other than the declared one: refused and deleted.
		r = e.do(t, req{method: "POST", path: "/api/v1/uploads", token: worker, body: map[string]any{
			"content_type": "image/jpeg", "size": len(raw), "sha256": strings.Repeat("ab", 32)}})
		expect(t, r, 201, "")
		up = r.json(t)
		if code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), raw); code != 204 {
			t.Fatalf("checksum: MinIO answered %d %s", code, body)
		}
		expect(t, phComplete(t, e, worker, up["upload_id"].(string)), 400, "invalid_argument")
		noneLeft("checksum mismatch", photos)

		// An expired policy: issued by a service whose clock runs nearly 15
		// minutes behind, so that it expires three seconds from now.
		e.clock.advance(-(photo.PolicyTTL - 3*time.Second))
		behind := e.loginPair(t, "demo-gridworker")["access_token"].(string)
		up = phCreateUpload(t, e, behind, "image/jpeg", len(raw))
		e.clock.advance(photo.PolicyTTL - 3*time.Second)
		exp, err = time.Parse(time.RFC3339, up["expires_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(exp) + 1500*time.Millisecond)
		if code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), raw); code != 403 || !strings.Contains(body, "xpired") {
			t.Fatalf("expired policy: MinIO answered %d %s", code, body)
		}
		expect(t, phComplete(t, e, worker, up["upload_id"].(string)), 400, "invalid_argument")
		noneLeft("expired policy", photos)

		// The blob store itself refuses to sign an expired policy.
		if _, _, err := e.app.Blob.PresignPost(ctx, blob.PostPolicy{Key: tmpKey,
			ContentType: "image/jpeg", MinSize: 1, MaxSize: photo.MaxBytes, Expires: time.Now().Add(-time.Minute)}); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("presigning an expired policy: %v", err)
		}
	})
}

func TestPhotoIdempotentReplay(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		worker := e.login(t, "demo-gridworker")
		body, ctype := phMultipartBody(t, phGpsJPEG(t), "image/jpeg")
		photos := phCount(t, e, "photos")
		send := func(key string, body []byte, ctype string) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/photos", token: worker, body: body,
				header: map[string]string{"Content-Type": ctype, "Idempotency-Key": key}})
		}
		first := send("photo-key-1", body, ctype)
		expect(t, first, 201, "")
		again := send("photo-key-1", body, ctype)
		if again.Code != first.Code || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay %d %s, first %d %s", again.Code, again.Body, first.Code, first.Body)
		}
		if again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Fatalf("replay Content-Type %q, first %q", again.Header.Get("Content-Type"), first.Header.Get("Content-Type"))
		}
		if n := phCount(t, e, "photos"); n != photos+1 {
			t.Fatalf("photos %d, want %d", n, photos+1)
		}
		objs, err := e.app.Blob.List(context.Background(), "photos/", time.Time{})
		if err != nil || len(objs) != photos+1 {
			t.Fatalf("%d objects under photos/ (%v), want %d", len(objs), err, photos+1)
		}
		// The same key with another body is refused.
		other, otherType := phMultipartBody(t, phPlainJPEG(t, 8, 8), "image/jpeg")
		expect(t, send("photo-key-1", other, otherType), 422, "unprocessable")
		// Without a key: 400.
		r := e.do(t, req{method: "POST", path: "/api/v1/photos", token: worker, body: body,
			header: map[string]string{"Content-Type": ctype, "Idempotency-Key": ""}})
		expect(t, r, 400, "invalid_argument")
		if n := phCount(t, e, "photos"); n != photos+1 {
			t.Fatalf("photos %d, want %d", n, photos+1)
		}
	})
}

func TestPhotoSweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		worker := e.login(t, "demo-gridworker")
		photos := phCount(t, e, "photos")
		loose := phNewPhoto(t, e, worker)
		kept := phNewPhoto(t, e, worker)
		expect(t, phNewIncident(t, e, worker, []string{kept}), 201, "")
		looseKey, looseThumb := phPhotoKeys(t, e, loose)
		keptKey, keptThumb := phPhotoKeys(t, e, kept)
		for _, id := range []string{loose, kept} { // the thumbnails exist once asked for
			phFetchPhoto(t, e, worker, id, true)
		}
		if !phExists(t, e, looseThumb) || !phExists(t, e, keptThumb) {
			t.Fatal("no thumbnails after they were served")
		}

		// A stale upload: a policy used but never completed on MinIO; a
		// left-over tmp object on the file store.
		var uploadID, tmpKey string
		if phOnMinio(e) {
			raw := phPlainJPEG(t, 8, 8)
			up := phCreateUpload(t, e, worker, "image/jpeg", len(raw))
			uploadID = up["upload_id"].(string)
			tmpKey = up["fields"].(map[string]any)["key"].(string)
			if code, body := phPolicyPost(t, up["url"].(string), up["fields"].(map[string]any), raw); code != 204 {
				t.Fatalf("MinIO answered %d %s", code, body)
			}
		} else {
			tmpKey = "tmp/someone/0190a0b0-0000-7000-8000-000000000000"
			if err := e.app.Blob.Put(ctx, tmpKey, bytes.NewReader([]byte("x")), 1, "image/jpeg"); err != nil {
				t.Fatal(err)
			}
		}

		// Nothing is stale yet.
		if _, err := e.app.Photos.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if phCount(t, e, "photos") != photos+2 || !phExists(t, e, looseKey) || !phExists(t, e, tmpKey) {
			t.Fatal("the sweeper removed fresh things")
		}

		e.clock.advance(25 * time.Hour)
		n, err := e.app.Photos.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n < 2 {
			t.Fatalf("swept %d", n)
		}
		var left int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM photos WHERE id = ?", loose).Scan(&left); err != nil || left != 0 {
			t.Fatalf("the unattached photo's row: %d %v", left, err)
		}
		if phExists(t, e, looseKey) || phExists(t, e, looseThumb) {
			t.Fatal("the unattached photo's objects outlived the sweep")
		}
		if phExists(t, e, tmpKey) {
			t.Fatal("the stale upload's object outlived the sweep")
		}
		if uploadID != "" {
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM uploads WHERE id = ?", uploadID).Scan(&left); err != nil || left != 0 {
				t.Fatalf("the stale upload's row: %d %v", left, err)
			}
		}
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM photos WHERE id = ?", kept).Scan(&left); err != nil || left != 1 {
			t.Fatalf("the attached photo's row: %d %v", left, err)
		}
		if !phExists(t, e, keptKey) || !phExists(t, e, keptThumb) {
			t.Fatal("the attached photo's objects were swept")
		}
		// A second sweep finds nothing more.
		if n, err := e.app.Photos.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep: %d %v", n, err)
		}
	})
}
