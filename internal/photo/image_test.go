package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/disintegration/imaging"

	"pingan/internal/errs"
)

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)

// quadrants returns a w×h image whose quarters are, clockwise from the top
// left, tl, tr, br and bl.
func quadrants(w, h int, tl, tr, bl, br color.Color) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := [2][2]color.Color{{tl, tr}, {bl, br}}[2*y/h][2*x/w]
			m.Set(x, y, c)
		}
	}
	return m
}

func encodeJPEGBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNGBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// exifAPP1 builds a JPEG APP1 segment holding a big-endian TIFF structure:
// IFD0 with Orientation and a pointer to a GPS IFD that carries a version,
// latitude, longitude and a processing method naming "GPS".
func exifAPP1(orientation uint16) []byte {
	be := binary.BigEndian
	var t []byte
	entry := func(tag, typ uint16, count uint32, value []byte) {
		t = be.AppendUint16(t, tag)
		t = be.AppendUint16(t, typ)
		t = be.AppendUint32(t, count)
		t = append(t, append(value, 0, 0, 0, 0)[:4]...)
	}
	u32 := func(v uint32) []byte { return be.AppendUint32(nil, v) }
	rationals := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = be.AppendUint32(be.AppendUint32(b, v), 1)
		}
		return b
	}
	const (
		ifd0   = 8
		gpsIFD = ifd0 + 2 + 2*12 + 4 // 38
		nGPS   = 6
		data   = gpsIFD + 2 + nGPS*12 + 4 // 112
	)
	lat, lon := rationals(31, 13, 48), rationals(121, 28, 22)
	method := []byte("ASCII\x00\x00\x00GPS-FIX")

	t = append(t, "MM\x00\x2a"...)
	t = be.AppendUint32(t, ifd0)
	t = be.AppendUint16(t, 2)
	entry(0x0112, 3, 1, be.AppendUint16(nil, orientation)) // Orientation, SHORT
	entry(0x8825, 4, 1, u32(gpsIFD))                       // GPSInfo IFD pointer, LONG
	t = be.AppendUint32(t, 0)
	t = be.AppendUint16(t, nGPS)
	entry(0x0000, 1, 4, []byte{2, 3, 0, 0})             // GPSVersionID
	entry(0x0001, 2, 2, []byte("N\x00"))                // GPSLatitudeRef
	entry(0x0002, 5, 3, u32(data))                      // GPSLatitude
	entry(0x0003, 2, 2, []byte("E\x00"))                // GPSLongitudeRef
	entry(0x0004, 5, 3, u32(data+24))                   // GPSLongitude
	entry(0x001b, 7, uint32(len(method)), u32(data+48)) // GPSProcessingMethod
	t = be.AppendUint32(t, 0)
	t = append(append(append(t, lat...), lon...), method...)

	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xff, 0xe1}
	seg = be.AppendUint16(seg, uint16(2+len(payload)))
	return append(seg, payload...)
}

// afterSOI splices a segment into a JPEG right after its SOI marker.
func afterSOI(jpg, seg []byte) []byte {
	return slices.Concat(jpg[:2], seg, jpg[2:])
}

// jpegMarkers lists the markers of a JPEG from SOI up to and including SOS.
func jpegMarkers(t *testing.T, b []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte{0xff, 0xd8}) {
		t.Fatalf("no SOI: % x", b[:min(4, len(b))])
	}
	var ms []byte
	for p := 2; p+4 <= len(b); {
		if b[p] != 0xff {
			t.Fatalf("no marker at %d", p)
		}
		ms = append(ms, b[p+1])
		if b[p+1] == 0xda {
			return ms
		}
		p += 2 + int(binary.BigEndian.Uint16(b[p+2:]))
	}
	t.Fatal("no SOS")
	return nil
}

func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, typ...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngChunks lists the chunk types of a PNG.
func pngChunks(t *testing.T, b []byte) []string {
	t.Helper()
	var types []string
	for p := 8; p+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[p:]))
		types = append(types, string(b[p+4:p+8]))
		p += 12 + n
	}
	return types
}

// bombPNG is a complete PNG header claiming w×h RGB pixels, with no data.
func bombPNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	return slices.Concat([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr), pngChunk("IEND", nil))
}

// bitWriter writes the least significant bit first, as VP8L reads.
type bitWriter struct {
	buf   []byte
	nbits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := range n {
		if w.nbits%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		w.buf[len(w.buf)-1] |= byte(v>>i&1) << (w.nbits % 8)
		w.nbits++
	}
}

// solidWebP builds a lossless (VP8L) WebP of one colour by hand: every
// prefix code is a "simple" code with a single symbol, so each pixel takes
// zero bits.
func solidWebP(w, h int, c color.NRGBA) []byte {
	bw := &bitWriter{buf: []byte{0x2f}, nbits: 8}
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(0, 1)                                       // alpha_is_used
	bw.write(0, 3)                                       // version
	bw.write(0, 1)                                       // no transform
	bw.write(0, 1)                                       // no colour cache
	bw.write(0, 1)                                       // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // of 8 bits
		bw.write(uint32(sym), 8)
	}
	payload := bw.buf
	if len(payload)%2 == 1 {
		payload = append(payload, 0)
	}
	riff := []byte("RIFF")
	riff = binary.LittleEndian.AppendUint32(riff, uint32(4+8+len(payload)))
	riff = append(riff, "WEBPVP8L"...)
	riff = binary.LittleEndian.AppendUint32(riff, uint32(len(bw.buf)))
	return append(riff, payload...)
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return max(int(a>>8)-int(w), int(w)-int(a>>8)) <= tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func decodeBytes(t *testing.T, b []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img, format
}

func TestDetect(t *testing.T) {
	jpg := encodeJPEGBytes(t, quadrants(8, 8, red, green, blue, white))
	pngb := encodePNGBytes(t, quadrants(8, 8, red, green, blue, white))
	webpb := solidWebP(4, 4, color.NRGBA{10, 20, 30, 255})
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"jpeg", jpg, "image/jpeg"},
		{"jpeg head only", jpg[:3], "image/jpeg"},
		{"png", pngb, "image/png"},
		{"webp lossless", webpb, "image/webp"},
		{"webp lossy header", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"},
		{"webp extended header", []byte("RIFF\x00\x00\x00\x00WEBPVP8X"), "image/webp"},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ""},
		{"empty", nil, ""},
		{"three random bytes", []byte{0x13, 0x37, 0xc0}, ""},
		{"truncated jpeg", jpg[:2], ""},
		{"truncated png", pngb[:7], ""},
		{"riff wave", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), ""},
		{"truncated webp", webpb[:12], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.head)
			if tt.want == "" {
				if !errors.Is(err, errs.ErrInvalid) || got != "" {
					t.Fatalf("Detect = %q, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// thumbOf makes the thumbnail of a sanitised photo and decodes it.
func thumbOf(t *testing.T, c Clean) image.Image {
	t.Helper()
	b, err := Thumbnail(c.Data)
	if err != nil {
		t.Fatalf("Thumbnail: %v", err)
	}
	for _, leak := range []string{"GPS", "Exif", "MM\x00\x2a"} {
		if bytes.Contains(b, []byte(leak)) {
			t.Errorf("thumbnail contains %q", leak)
		}
	}
	img, format := decodeBytes(t, b)
	if format != "jpeg" {
		t.Fatalf("thumbnail is %s", format)
	}
	return img
}

// scan returns a JPEG's bytes from its first SOS marker on: the coded pixels.
func scan(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte{0xff, 0xda})
	if i < 0 {
		t.Fatal("no SOS")
	}
	return b[i:]
}

func TestSanitizeStripsEXIFKeepsOrientation(t *testing.T) {
	// 40×20, left half red, right half blue, taken "sideways": Orientation 6
	// says the stored pixels must be turned 90° clockwise to be upright.
	plain := encodeJPEGBytes(t, quadrants(40, 20, red, blue, red, blue))
	in := afterSOI(plain, exifAPP1(6))
	if !bytes.Contains(in, []byte("GPS")) {
		t.Fatal("test input carries no GPS bytes")
	}
	// An independent EXIF reader agrees that the hand-built EXIF says 6.
	if ref, err := imaging.Decode(bytes.NewReader(in), imaging.AutoOrientation(true)); err != nil || ref.Bounds().Dx() != 20 {
		t.Fatalf("imaging reads the test EXIF as %v, %v", ref.Bounds(), err)
	}

	got, err := Sanitize(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentType != "image/jpeg" || got.Width != 20 || got.Height != 40 || got.Orientation != 6 {
		t.Fatalf("got %s %d×%d orientation %d, want image/jpeg 20×40 orientation 6",
			got.ContentType, got.Width, got.Height, got.Orientation)
	}
	// One APP1 with the orientation, then Go's tables, frame and scan.
	if ms := jpegMarkers(t, got.Data); !slices.Equal(ms, []byte{0xe1, 0xdb, 0xc0, 0xc4, 0xda}) {
		t.Fatalf("markers % x, want e1 db c0 c4 da", ms)
	}
	for _, leak := range []string{"GPS", "\x88\x25"} { // the text, the GPSInfo tag
		if bytes.Contains(got.Data, []byte(leak)) {
			t.Errorf("output contains %q", leak)
		}
	}
	if want := exifOrientationAPP1; !bytes.Equal(got.Data[2:2+len(want)-7], want[:len(want)-7]) || got.Data[2+len(want)-7] != 6 {
		t.Errorf("EXIF segment % x, want the one-tag segment with 6", got.Data[2:2+len(want)])
	}
	// The coded pixels are the camera's, byte for byte.
	if !bytes.Equal(scan(t, got.Data), scan(t, plain)) {
		t.Error("the scan data changed")
	}
	// A viewer that applies EXIF orientation shows it upright: what was the
	// left (red) side is on top. So does the thumbnail.
	shown, err := imaging.Decode(bytes.NewReader(got.Data), imaging.AutoOrientation(true))
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]image.Image{"photo as shown": shown, "thumb": thumbOf(t, got)} {
		if img.Bounds().Size() != image.Pt(20, 40) {
			t.Fatalf("%s: %v, want 20×40", name, img.Bounds())
		}
		if c := img.At(10, 8); !near(c, red, 40) {
			t.Errorf("%s: top is %v, want red", name, c)
		}
		if c := img.At(10, 32); !near(c, blue, 40) {
			t.Errorf("%s: bottom is %v, want blue", name, c)
		}
	}
}

func TestSanitizeOrientations(t *testing.T) {
	// Quadrants red, green / blue, white; each row gives the quadrants of the
	// upright result, read the same way.
	src := encodeJPEGBytes(t, quadrants(40, 20, red, green, blue, white))
	tests := []struct {
		orientation    uint16
		w, h           int
		tl, tr, bl, br color.RGBA
	}{
		{1, 40, 20, red, green, blue, white},
		{2, 40, 20, green, red, white, blue}, // mirrored
		{3, 40, 20, white, blue, green, red}, // upside down
		{4, 40, 20, blue, white, red, green}, // mirrored vertically
		{5, 20, 40, red, blue, green, white}, // transposed
		{6, 20, 40, blue, red, white, green}, // turned 90° clockwise
		{7, 20, 40, white, green, blue, red}, // transversed
		{8, 20, 40, green, white, red, blue}, // turned 90° counter-clockwise
		{9, 40, 20, red, green, blue, white}, // invalid value: left alone
	}
	for _, tt := range tests {
		t.Run(string(rune('0'+tt.orientation)), func(t *testing.T) {
			got, err := Sanitize(bytes.NewReader(afterSOI(src, exifAPP1(tt.orientation))))
			if err != nil {
				t.Fatal(err)
			}
			wantTag := int(tt.orientation)
			if wantTag > 8 {
				wantTag = 1
			}
			if got.Orientation != wantTag || exifOrientation(got.Data) != wantTag {
				t.Fatalf("orientation %d, in the data %d; want %d", got.Orientation, exifOrientation(got.Data), wantTag)
			}
			if wantTag == 1 && bytes.Contains(got.Data, []byte("Exif")) {
				t.Error("an EXIF segment for orientation 1")
			}
			img := thumbOf(t, got)
			if got.Width != tt.w || got.Height != tt.h || img.Bounds() != image.Rect(0, 0, tt.w, tt.h) {
				t.Fatalf("got %d×%d (thumbnail %v), want %d×%d", got.Width, got.Height, img.Bounds(), tt.w, tt.h)
			}
			for i, want := range []color.RGBA{tt.tl, tt.tr, tt.bl, tt.br} {
				x, y := tt.w/4+i%2*tt.w/2, tt.h/4+i/2*tt.h/2
				if c := img.At(x, y); !near(c, want, 40) {
					t.Errorf("quadrant %d at (%d,%d) is %v, want %v", i, x, y, c, want)
				}
			}
		})
	}
}

// segment builds a JPEG segment with the given marker and payload.
func segment(marker byte, payload string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0xff, marker}, uint16(2+len(payload))), payload...)
}

func TestSanitizeJPEGKeepsOnlyWhatDrawsThePicture(t *testing.T) {
	plain := encodeJPEGBytes(t, quadrants(16, 16, red, green, blue, white))
	jfif := "JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x01\x01" + "\x11\x22\x33" // with a 1×1 thumbnail
	icc := "ICC_PROFILE\x00\x01\x01" + "profile-bytes"
	adobe := "Adobe\x00\x64\x00\x00\x00\x00\x01"
	in := slices.Concat(plain[:2],
		segment(0xe0, jfif),
		segment(0xe1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>GPSLatitude 31.2</x:xmpmeta>"),
		segment(0xe2, icc),
		segment(0xe2, "MPF\x00secondary image index"),
		segment(0xed, "Photoshop 3.0\x00IPTC byline: Zhang San"),
		segment(0xee, adobe),
		segment(0xfe, "taken at 13800138000's home"),
		[]byte{0xff, 0xff}, // fill bytes before a marker are allowed
		plain[2:],
		[]byte("PK\x03\x04 a zip appended after EOI"))

	got, err := Sanitize(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(plain[:2],
		segment(0xe0, jfif[:12]+"\x00\x00"), // the JFIF thumbnail is gone
		segment(0xe2, icc), segment(0xee, adobe),
		plain[2:])
	if !bytes.Equal(got.Data, want) {
		t.Fatalf("sanitised\n% x\nwant\n% x", got.Data, want)
	}
	if got.Width != 16 || got.Height != 16 || got.Orientation != 1 {
		t.Errorf("got %d×%d orientation %d", got.Width, got.Height, got.Orientation)
	}
}

func TestEntropyEnd(t *testing.T) {
	tests := []struct {
		data string
		want int
	}{
		{"\x01\x02\xff\xd9", 2},                     // EOI ends it
		{"\x01\xff\x00\x02\xff\xd9", 4},             // a stuffed 0xFF byte is data
		{"\x01\xff\xd0\x02\xff\xd7\x03\xff\xc4", 7}, // restart markers are data; DHT ends it
		{"\x01\xff\xff\xff\xda", 1},                 // fill bytes before a marker
		{"\x01\x02\x03", -1},                        // runs off the end
		{"\x01\xff", -1},
		{"\x01\xff\xff", -1},
	}
	for _, tt := range tests {
		if got := entropyEnd([]byte(tt.data), 0); got != tt.want {
			t.Errorf("entropyEnd(% x) = %d, want %d", tt.data, got, tt.want)
		}
	}
}

func TestSanitizePNGDropsTextChunks(t *testing.T) {
	src := quadrants(30, 10, red, green, blue, color.NRGBA{0, 0, 0, 128})
	plain := encodePNGBytes(t, src)
	text := pngChunk("tEXt", []byte("Comment\x00secret GPS 31.23,121.47"))
	exif := pngChunk("eXIf", exifAPP1(6)[10:])
	srgb := pngChunk("sRGB", []byte{0})
	in := slices.Concat(plain[:33], text, srgb, exif, plain[33:], []byte("trailing")) // after the signature and IHDR

	got, err := Sanitize(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentType != "image/png" || got.Width != 30 || got.Height != 10 {
		t.Fatalf("got %s %d×%d", got.ContentType, got.Width, got.Height)
	}
	if want := slices.Concat(plain[:33], srgb, plain[33:]); !bytes.Equal(got.Data, want) {
		t.Fatalf("chunks %v, want IHDR sRGB IDAT IEND", pngChunks(t, got.Data))
	}
	// The JPEG thumbnail has no alpha: the translucent black quadrant is laid on white.
	thumb := thumbOf(t, got)
	if c := thumb.At(24, 8); !near(c, color.RGBA{127, 127, 127, 255}, 20) {
		t.Errorf("translucent quadrant in thumb is %v, want grey", c)
	}
}

// riffChunk builds a WebP chunk, padded to even length.
func riffChunk(fourcc string, data []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(fourcc), uint32(len(data)))
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// riff wraps chunks into a WebP file.
func riff(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	return slices.Concat([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body))), []byte("WEBP"), body)
}

// vp8x is an extended WebP header with the given flags for a w×h canvas.
func vp8x(flags byte, w, h int) []byte {
	d := []byte{flags, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riffChunk("VP8X", d)
}

func TestSanitizeWebP(t *testing.T) {
	simple := solidWebP(24, 16, color.NRGBA{200, 100, 50, 255})
	vp8l := simple[12:] // the one VP8L chunk
	t.Run("simple", func(t *testing.T) {
		got, err := Sanitize(bytes.NewReader(simple))
		if err != nil {
			t.Fatal(err)
		}
		if got.ContentType != "image/webp" || got.Width != 24 || got.Height != 16 || !bytes.Equal(got.Data, simple) {
			t.Fatalf("got %s %d×%d, data changed: %v", got.ContentType, got.Width, got.Height, !bytes.Equal(got.Data, simple))
		}
		if c := thumbOf(t, got).At(12, 8); !near(c, color.RGBA{200, 100, 50, 255}, 8) {
			t.Errorf("colour %v, want (200,100,50)", c)
		}
	})
	t.Run("extended with EXIF and XMP", func(t *testing.T) {
		icc := riffChunk("ICCP", []byte("profile"))
		in := riff(vp8x(0x20|vp8xEXIF|vp8xXMP, 24, 16), icc, vp8l,
			riffChunk("EXIF", exifAPP1(6)[10:]), riffChunk("XMP ", []byte("<x:xmpmeta>GPS</x:xmpmeta>")))
		got, err := Sanitize(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if want := riff(vp8x(0x20, 24, 16), icc, vp8l); !bytes.Equal(got.Data, want) {
			t.Fatalf("sanitised\n% x\nwant\n% x", got.Data, want)
		}
		if got.Width != 24 || got.Height != 16 {
			t.Errorf("got %d×%d", got.Width, got.Height)
		}
	})
	t.Run("animated", func(t *testing.T) {
		_, err := Sanitize(bytes.NewReader(riff(vp8x(vp8xAnimation, 24, 16), riffChunk("ANIM", make([]byte, 6)))))
		if !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}

func TestSanitizeRefuses(t *testing.T) {
	jpg := encodeJPEGBytes(t, quadrants(16, 16, red, green, blue, white))
	bigJPEG := slices.Clone(jpg)
	sof := bytes.Index(bigJPEG, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(bigJPEG[sof+5:], 60000) // height
	binary.BigEndian.PutUint16(bigJPEG[sof+7:], 60000) // width
	bigWebP := solidWebP(16384, 16384, color.NRGBA{1, 2, 3, 255})
	tests := []struct {
		name string
		in   []byte
	}{
		{"html declared as jpeg", []byte("<html><body>hello</body></html>")},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"empty", nil},
		{"jpeg magic only", []byte{0xff, 0xd8, 0xff}},
		{"truncated jpeg", jpg[:len(jpg)/2]},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n")},
		{"png bomb 100000×100000", bombPNG(100000, 100000)},
		{"png 0×0", bombPNG(0, 0)},
		{"jpeg header bomb 60000×60000", bigJPEG},
		{"webp bomb 16384×16384", bigWebP},
		{"jpeg without EOI", jpg[:len(jpg)-2]},
		{"jpeg scan before frame", slices.Concat(jpg[:2], segment(0xda, "\x01\x01\x00\x00\x3f\x00"), []byte{0xff, 0xd9})},
		{"jpeg segment overrunning", slices.Concat(jpg[:2], []byte{0xff, 0xe1, 0xff, 0xff, 0x00})},
		{"jpeg two frames", afterSOI(jpg, jpg[bytes.Index(jpg, []byte{0xff, 0xc0}):][:19])},
		{"png bad crc", func() []byte { b := encodePNGBytes(t, quadrants(4, 4, red, green, blue, white)); b[30] ^= 1; return b }()},
		{"png without IEND", func() []byte { b := encodePNGBytes(t, quadrants(4, 4, red, green, blue, white)); return b[:len(b)-12] }()},
		{"png IDAT first", slices.Concat([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IDAT", nil), pngChunk("IEND", nil))},
		{"webp riff larger than file", solidWebP(4, 4, color.NRGBA{1, 2, 3, 255})[:20]},
		{"webp without image chunk", riff(riffChunk("EXIF", []byte("x")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Sanitize(bytes.NewReader(tt.in))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			// Refused from the header alone: nothing like a pixel buffer was allocated.
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("allocated %d bytes before refusing", n)
			}
		})
	}
}

// zeros is an endless JPEG-looking stream that counts what was read from it.
type zeros struct{ read int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	if z.read == 0 && len(p) >= 3 {
		copy(p, "\xff\xd8\xff")
	}
	z.read += int64(len(p))
	return len(p), nil
}

func TestSanitizeTooLarge(t *testing.T) {
	z := &zeros{}
	_, err := Sanitize(io.LimitReader(z, 11<<20))
	if !errors.Is(err, errs.ErrTooLarge) {
		t.Fatalf("11 MiB: err = %v, want ErrTooLarge", err)
	}
	if z.read != MaxBytes+1 {
		t.Errorf("read %d bytes, want MaxBytes+1 = %d", z.read, MaxBytes+1)
	}
	// Exactly MaxBytes is not too large (merely not an image).
	if _, err := Sanitize(io.LimitReader(&zeros{}, MaxBytes)); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("MaxBytes: err = %v, want ErrInvalid", err)
	}
}

func TestThumbnailAndHash(t *testing.T) {
	tests := []struct {
		w, h           int
		thumbW, thumbH int
	}{
		{40, 20, 40, 20},     // smaller than a thumbnail: kept
		{320, 100, 320, 100}, // exactly the size
		{1000, 600, 320, 192},
		{600, 1000, 192, 320},
		{2400, 600, 320, 80}, // large enough for the sampled intermediate
	}
	for _, tt := range tests {
		t.Run(image.Pt(tt.w, tt.h).String(), func(t *testing.T) {
			got, err := Sanitize(bytes.NewReader(encodeJPEGBytes(t, quadrants(tt.w, tt.h, red, green, blue, white))))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(got.Data)
			if got.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("SHA256 %s does not match Data", got.SHA256)
			}
			thumb := thumbOf(t, got)
			if thumb.Bounds() != image.Rect(0, 0, tt.thumbW, tt.thumbH) {
				t.Fatalf("thumb %v, want %d×%d", thumb.Bounds(), tt.thumbW, tt.thumbH)
			}
			b := thumb.Bounds()
			if c := thumb.At(b.Dx()/4, b.Dy()/4); !near(c, red, 40) {
				t.Errorf("thumb top left is %v, want red", c)
			}
			if c := thumb.At(3*b.Dx()/4, 3*b.Dy()/4); !near(c, white, 40) {
				t.Errorf("thumb bottom right is %v, want white", c)
			}
		})
	}
}

func FuzzSanitize(f *testing.F) {
	small := quadrants(16, 8, red, green, blue, white)
	jpg := encodeJPEGBytes(f, small)
	f.Add(jpg)
	f.Add(afterSOI(jpg, exifAPP1(6)))
	f.Add(encodePNGBytes(f, small))
	f.Add(solidWebP(3, 5, color.NRGBA{9, 8, 7, 255}))
	f.Add(bombPNG(7, 7))
	f.Add([]byte("<html>"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Sanitize(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrTooLarge) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(got.Data))
		if got.Orientation >= 5 {
			cfg.Width, cfg.Height = cfg.Height, cfg.Width
		}
		if err != nil || "image/"+format != got.ContentType || cfg.Width != got.Width || cfg.Height != got.Height {
			t.Fatalf("Data: %s %d×%d, %v; Clean says %s %d×%d", format, cfg.Width, cfg.Height, err, got.ContentType, got.Width, got.Height)
		}
		if thumb, err := Thumbnail(got.Data); err != nil && !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("Thumbnail: error of no known kind: %v", err)
		} else if err == nil {
			if _, err := jpeg.Decode(bytes.NewReader(thumb)); err != nil {
				t.Fatalf("thumbnail does not decode: %v", err)
			}
		}
	})
}

// noisyJPEG makes a 4000×3000 photo-like JPEG (a gradient with grain) of
// about 3 MiB: grain keeps the entropy coder busy as a real photo does.
func noisyJPEG(tb testing.TB) []byte {
	tb.Helper()
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
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkSanitize3MiB is the work of a photo's complete call: metadata
// out, the coded pixels copied (SPEC §13.1: complete ≤ 150 ms).
func BenchmarkSanitize3MiB(b *testing.B) {
	upright := noisyJPEG(b)
	b.Logf("input: 4000×3000 JPEG of %d bytes", len(upright))
	in := afterSOI(upright, exifAPP1(6))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Sanitize(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThumbnail3MiB is the background work for the same photo.
func BenchmarkThumbnail3MiB(b *testing.B) {
	c, err := Sanitize(bytes.NewReader(afterSOI(noisyJPEG(b), exifAPP1(6))))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(c.Data)))
	for b.Loop() {
		if _, err := Thumbnail(c.Data); err != nil {
			b.Fatal(err)
		}
	}
}
