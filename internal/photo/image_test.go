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

func TestSanitizeStripsEXIFAndRotates(t *testing.T) {
	// 40×20, left half red, right half blue, taken "sideways": Orientation 6
	// says the stored pixels must be turned 90° clockwise to be upright.
	in := afterSOI(encodeJPEGBytes(t, quadrants(40, 20, red, blue, red, blue)), exifAPP1(6))
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
	if got.ContentType != "image/jpeg" || got.Width != 20 || got.Height != 40 {
		t.Fatalf("got %s %d×%d, want image/jpeg 20×40", got.ContentType, got.Width, got.Height)
	}
	// Go's encoder writes only tables, the frame and the scan: no APPn, no COM.
	if ms := jpegMarkers(t, got.Data); !slices.Equal(ms, []byte{0xdb, 0xc0, 0xc4, 0xda}) {
		t.Fatalf("markers % x, want db c0 c4 da", ms)
	}
	for _, leak := range []string{"GPS", "Exif", "MM\x00\x2a"} {
		if bytes.Contains(got.Data, []byte(leak)) || bytes.Contains(got.Thumb, []byte(leak)) {
			t.Errorf("output contains %q", leak)
		}
	}
	for name, b := range map[string][]byte{"data": got.Data, "thumb": got.Thumb} {
		img, format := decodeBytes(t, b)
		if format != "jpeg" || img.Bounds() != image.Rect(0, 0, 20, 40) {
			t.Fatalf("%s: %s %v, want jpeg 20×40", name, format, img.Bounds())
		}
		// What was the left (red) side is now on top.
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
			img, _ := decodeBytes(t, got.Data)
			if got.Width != tt.w || got.Height != tt.h || img.Bounds() != image.Rect(0, 0, tt.w, tt.h) {
				t.Fatalf("got %d×%d (decodes to %v), want %d×%d", got.Width, got.Height, img.Bounds(), tt.w, tt.h)
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

func TestOrientMatchesImaging(t *testing.T) {
	// The plane-by-plane turn of YCbCr images, and the fall-back to imaging
	// for layouts it does not cover, give exactly imaging's pixels.
	rng := rand.New(rand.NewPCG(3, 4))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411,
	}
	want := map[int]func(image.Image) *image.NRGBA{
		2: imaging.FlipH, 3: imaging.Rotate180, 4: imaging.FlipV, 5: imaging.Transpose,
		6: imaging.Rotate270, 7: imaging.Transverse, 8: imaging.Rotate90,
	}
	for _, ratio := range ratios {
		for _, size := range []image.Point{{70, 38}, {37, 21}} {
			m := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), ratio)
			for _, p := range [][]byte{m.Y, m.Cb, m.Cr} {
				for i := range p {
					p[i] = byte(rng.IntN(256))
				}
			}
			for o := 2; o <= 8; o++ {
				got, exp := imaging.Clone(orient(m, o)), want[o](m)
				if got.Rect != exp.Rect || !bytes.Equal(got.Pix, exp.Pix) {
					t.Errorf("%v %v orientation %d: pixels differ from imaging", ratio, size, o)
				}
			}
		}
	}
}

func TestSanitizePNGDropsTextChunks(t *testing.T) {
	src := quadrants(30, 10, red, green, blue, color.NRGBA{0, 0, 0, 128})
	plain := encodePNGBytes(t, src)
	text := pngChunk("tEXt", []byte("Comment\x00secret GPS 31.23,121.47"))
	in := slices.Concat(plain[:33], text, plain[33:]) // after the signature and IHDR

	got, err := Sanitize(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentType != "image/png" || got.Width != 30 || got.Height != 10 {
		t.Fatalf("got %s %d×%d", got.ContentType, got.Width, got.Height)
	}
	if chunks := pngChunks(t, got.Data); !slices.Equal(chunks, []string{"IHDR", "IDAT", "IEND"}) {
		t.Fatalf("chunks %v, want IHDR IDAT IEND", chunks)
	}
	if bytes.Contains(got.Data, []byte("secret")) {
		t.Fatal("text survived")
	}
	// PNG stays lossless, translucency included.
	img, _ := decodeBytes(t, got.Data)
	for _, p := range []image.Point{{2, 2}, {20, 2}, {2, 8}, {20, 8}} {
		if g, w := color.NRGBAModel.Convert(img.At(p.X, p.Y)), color.NRGBAModel.Convert(src.At(p.X, p.Y)); g != w {
			t.Errorf("pixel %v = %v, want %v", p, g, w)
		}
	}
	// The JPEG thumbnail has no alpha: the translucent black quadrant is laid on white.
	thumb, format := decodeBytes(t, got.Thumb)
	if format != "jpeg" {
		t.Fatalf("thumb is %s", format)
	}
	if c := thumb.At(24, 8); !near(c, color.RGBA{127, 127, 127, 255}, 20) {
		t.Errorf("translucent quadrant in thumb is %v, want grey", c)
	}
}

func TestSanitizeWebPBecomesJPEG(t *testing.T) {
	got, err := Sanitize(bytes.NewReader(solidWebP(24, 16, color.NRGBA{200, 100, 50, 255})))
	if err != nil {
		t.Fatal(err)
	}
	img, format := decodeBytes(t, got.Data)
	if got.ContentType != "image/jpeg" || format != "jpeg" || got.Width != 24 || got.Height != 16 || img.Bounds().Dx() != 24 {
		t.Fatalf("got %s (%s) %d×%d", got.ContentType, format, got.Width, got.Height)
	}
	if c := img.At(12, 8); !near(c, color.RGBA{200, 100, 50, 255}, 8) {
		t.Errorf("colour %v, want (200,100,50)", c)
	}
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

func TestSanitizeThumbAndHash(t *testing.T) {
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
			thumb, format := decodeBytes(t, got.Thumb)
			if format != "jpeg" || thumb.Bounds() != image.Rect(0, 0, tt.thumbW, tt.thumbH) {
				t.Fatalf("thumb %s %v, want jpeg %d×%d", format, thumb.Bounds(), tt.thumbW, tt.thumbH)
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
		if err != nil || "image/"+format != got.ContentType || cfg.Width != got.Width || cfg.Height != got.Height {
			t.Fatalf("Data: %s %d×%d, %v; Clean says %s %d×%d", format, cfg.Width, cfg.Height, err, got.ContentType, got.Width, got.Height)
		}
		if _, err := jpeg.Decode(bytes.NewReader(got.Thumb)); err != nil {
			t.Fatalf("Thumb does not decode: %v", err)
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

func BenchmarkSanitize3MiB(b *testing.B) {
	upright := noisyJPEG(b)
	b.Logf("input: 4000×3000 JPEG of %d bytes", len(upright))
	for _, bm := range []struct {
		name string
		in   []byte
	}{
		{"upright", upright},
		{"exif-orientation-6", afterSOI(upright, exifAPP1(6))},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.in)))
			for b.Loop() {
				if _, err := Sanitize(bytes.NewReader(bm.in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
