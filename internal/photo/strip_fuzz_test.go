package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/color"
	"testing"

	"pingan/internal/errs"
)

// FuzzSniffAndStrip: Detect names a type from the first 15 bytes, whatever
// follows; Sanitize keeps that type, leaves no metadata a decoder does not
// need (no EXIF but a lone orientation, no comments, no text chunks, no
// XMP) and changes nothing on a second pass. FuzzSanitize checks that what
// it keeps decodes.
func FuzzSniffAndStrip(f *testing.F) {
	small := quadrants(16, 8, red, green, blue, white)
	jpg := encodeJPEGBytes(f, small)
	f.Add(jpg)
	f.Add(afterSOI(jpg, exifAPP1(6)))
	f.Add(afterSOI(jpg, []byte("\xff\xfe\x00\x07hello")))
	f.Add(append(append([]byte{}, jpg...), []byte("appended.zip")...))
	f.Add(encodePNGBytes(f, small))
	f.Add(solidWebP(3, 5, color.NRGBA{9, 8, 7, 255}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		kind, err := Detect(in)
		if err != nil && (!errors.Is(err, errs.ErrInvalid) || kind != "") || err == nil && kind != JPEG && kind != PNG && kind != WebP {
			t.Fatalf("Detect: %q, %v", kind, err)
		}
		head := in[:min(len(in), 15)]
		if k, err2 := Detect(head); k != kind || (err == nil) != (err2 == nil) {
			t.Fatalf("Detect of the first 15 bytes: %q, of all: %q", k, kind)
		}
		if k, _ := Detect(append(append([]byte{}, in...), 0xff, 0x00, 'x')); len(in) >= 15 && k != kind {
			t.Fatalf("Detect changed with bytes after the 15th: %q, then %q", kind, k)
		}

		clean, err := Sanitize(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrTooLarge) {
				t.Fatalf("Sanitize: error of no known kind: %v", err)
			}
			return
		}
		if clean.ContentType != kind {
			t.Fatalf("Sanitize says %s, Detect %s", clean.ContentType, kind)
		}
		if k, _ := Detect(clean.Data); k != kind {
			t.Fatalf("the sanitised %s is detected as %q", kind, k)
		}
		if left := fuzzMetadata(clean.ContentType, clean.Data, clean.Orientation); left != "" {
			t.Fatalf("the sanitised %s keeps %s", kind, left)
		}
		again, err := Sanitize(bytes.NewReader(clean.Data))
		if err != nil || !bytes.Equal(again.Data, clean.Data) || again.Orientation != clean.Orientation ||
			again.Width != clean.Width || again.Height != clean.Height || again.SHA256 != clean.SHA256 {
			t.Fatalf("a second pass changed the %s: %v, %d bytes → %d, orientation %d → %d", kind, err,
				len(clean.Data), len(again.Data), clean.Orientation, again.Orientation)
		}
	})
}

// fuzzMetadata names the first piece of metadata left in a sanitised image
// that Sanitize promises to remove, or "".
func fuzzMetadata(kind string, data []byte, orientation int) string {
	switch kind {
	case JPEG:
		for p := 2; p+4 <= len(data) && data[p] == 0xff; {
			m := data[p+1]
			if m == mSOS || m == mEOI {
				return ""
			}
			n := int(binary.BigEndian.Uint16(data[p+2:]))
			seg := data[p+4 : min(len(data), p+2+n)]
			switch {
			case m == mCOM:
				return "a comment"
			case m == mAPP1 && (orientation == 1 || n > 64 || !bytes.HasPrefix(seg, []byte("Exif\x00\x00"))):
				return "an APP1 segment (EXIF or XMP)"
			case m >= mAPP0 && m <= 0xef && m != mAPP0 && m != mAPP1 && m != mAPP2 && m != mAPPE:
				return "an APPn segment"
			}
			p += 2 + n
		}
	case PNG:
		for p := 8; p+8 <= len(data); {
			n, typ := int(binary.BigEndian.Uint32(data[p:])), string(data[p+4:p+8])
			switch typ {
			case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
				return "a " + typ + " chunk"
			}
			p += 12 + n
			if n < 0 || p < 0 {
				return ""
			}
		}
	case WebP:
		for p := 12; p+8 <= len(data); {
			n, typ := int(binary.LittleEndian.Uint32(data[p+4:])), string(data[p:p+4])
			if typ == "EXIF" || typ == "XMP " {
				return "an " + typ + " chunk"
			}
			p += 8 + n + n%2
			if n < 0 || p < 0 {
				return ""
			}
		}
	}
	return ""
}
