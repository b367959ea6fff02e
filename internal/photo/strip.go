// This file removes metadata from an image without touching its coded
// pixels: the container (JPEG segments, PNG chunks, WebP RIFF chunks) is
// rewritten with only what a decoder needs to draw the picture. The photo
// stays exactly as the camera coded it, which matters for evidence, and the
// work is a copy of the bytes instead of a decode and a re-encode.

package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"pingan/internal/errs"
)

func broken(kind, msg string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", kind, fmt.Sprintf(msg, args...), errs.ErrInvalid)
}

// JPEG markers.
const (
	mSOF0 = 0xc0
	mDHT  = 0xc4
	mSOFF = 0xcf
	mRST0 = 0xd0
	mRST7 = 0xd7
	mSOI  = 0xd8
	mEOI  = 0xd9
	mSOS  = 0xda
	mDQT  = 0xdb
	mDNL  = 0xdc
	mDRI  = 0xdd
	mAPP0 = 0xe0
	mAPP1 = 0xe1
	mAPP2 = 0xe2
	mAPPE = 0xee
	mCOM  = 0xfe
)

// stripJPEG returns the JPEG with every APPn and COM segment removed except
// a JFIF header (without its thumbnail), ICC profiles and the Adobe colour
// transform segment, plus a minimal EXIF segment holding only the
// Orientation tag when the photo had one other than 1. Anything after EOI
// (appended files, multi-picture extras) is dropped. It returns the
// orientation found (1 when none). A stream that does not parse as
// SOI, tables, frame, scans and EOI is refused.
func stripJPEG(data []byte) ([]byte, int, error) {
	if !bytes.HasPrefix(data, []byte{0xff, mSOI}) {
		return nil, 0, broken(JPEG, "no SOI marker")
	}
	orientation := 1
	var jfif []byte
	body := make([]byte, 0, len(data))
	frame, scans := false, 0
	p := 2
	for {
		// A marker: one or more 0xFF fill bytes, then the code.
		if p >= len(data) || data[p] != 0xff {
			return nil, 0, broken(JPEG, "expected a marker at byte %d", p)
		}
		for p < len(data) && data[p] == 0xff {
			p++
		}
		if p >= len(data) {
			return nil, 0, broken(JPEG, "truncated at a marker")
		}
		m := data[p]
		p++
		if m == mEOI {
			break
		}
		if m == mSOI || m == 0x00 || (m >= mRST0 && m <= mRST7) {
			return nil, 0, broken(JPEG, "unexpected marker %#x at byte %d", m, p-2)
		}
		if p+2 > len(data) {
			return nil, 0, broken(JPEG, "truncated segment")
		}
		size := int(binary.BigEndian.Uint16(data[p:]))
		if size < 2 || p+size > len(data) {
			return nil, 0, broken(JPEG, "segment %#x of %d bytes overruns the file", m, size)
		}
		seg := data[p-2 : p+size] // marker, length and payload
		payload := data[p+2 : p+size]
		p += size
		switch {
		case m == mAPP0:
			if jfif == nil && bytes.HasPrefix(payload, []byte("JFIF\x00")) && len(payload) >= 14 {
				// Version, units and density; the thumbnail size set to 0×0.
				jfif = append([]byte{0xff, mAPP0, 0, 16}, payload[:12]...)
				jfif = append(jfif, 0, 0)
			}
		case m == mAPP1:
			if bytes.HasPrefix(payload, []byte("Exif\x00\x00")) && orientation == 1 {
				orientation = tiffOrientation(payload[6:])
			}
		case m == mAPP2 && bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")),
			m == mAPPE && bytes.HasPrefix(payload, []byte("Adobe")):
			body = append(body, seg...)
		case m > mAPP0 && m <= 0xef, m == mCOM:
			// Other application data and comments: dropped.
		case m >= mSOF0 && m <= mSOFF && m != mDHT && m != 0xc8 && m != 0xcc:
			if frame {
				return nil, 0, broken(JPEG, "second frame header")
			}
			frame = true
			body = append(body, seg...)
		case m == mDHT, m == mDQT, m == mDRI, m == mDNL, m == 0xcc: // 0xcc: arithmetic coding tables
			body = append(body, seg...)
		case m == mSOS:
			if !frame {
				return nil, 0, broken(JPEG, "scan before the frame header")
			}
			scans++
			end := entropyEnd(data, p)
			if end < 0 {
				return nil, 0, broken(JPEG, "scan data runs to the end of the file without EOI")
			}
			body = append(body, seg...)
			body = append(body, data[p:end]...)
			p = end
		default:
			return nil, 0, broken(JPEG, "unknown marker %#x", m)
		}
	}
	if !frame || scans == 0 {
		return nil, 0, broken(JPEG, "no frame or no scan")
	}
	out := make([]byte, 0, 2+len(jfif)+len(exifOrientationAPP1)+len(body)+2)
	out = append(out, 0xff, mSOI)
	out = append(out, jfif...)
	if orientation != 1 {
		out = append(out, exifOrientationAPP1...)
		out[len(out)-7] = byte(orientation) // the SHORT value, big-endian
	}
	out = append(out, body...)
	return append(out, 0xff, mEOI), orientation, nil
}

// exifOrientationAPP1 is an APP1 segment with a big-endian TIFF header and
// an IFD0 of one entry, Orientation = 1; stripJPEG sets the value.
var exifOrientationAPP1 = []byte{
	0xff, mAPP1, 0, 34, // marker, length 2+6+26
	'E', 'x', 'i', 'f', 0, 0,
	'M', 'M', 0, 42, 0, 0, 0, 8, // TIFF header, IFD0 at offset 8
	0, 1, // one entry
	0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0, // Orientation, SHORT, count 1, value
	0, 0, 0, 0, // no next IFD
}

// entropyEnd returns the offset of the marker that ends the entropy-coded
// data starting at p (stuffed 0xFF00 bytes and restart markers belong to
// the data), or -1 when the data runs to the end of the file.
func entropyEnd(data []byte, p int) int {
	for {
		i := bytes.IndexByte(data[p:], 0xff)
		if i < 0 {
			return -1
		}
		p += i
		q := p + 1
		for q < len(data) && data[q] == 0xff {
			q++
		}
		if q >= len(data) {
			return -1
		}
		if m := data[q]; m == 0x00 || (m >= mRST0 && m <= mRST7) {
			p = q + 1
			continue
		}
		return p
	}
}

// pngKeep are the chunks a PNG keeps: the critical ones and those that
// change how pixels look. Text, EXIF, time stamps, animation and private
// chunks are dropped.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "cHRM": true, "gAMA": true, "iCCP": true, "sBIT": true, "sRGB": true, "cICP": true, "pHYs": true,
}

// stripPNG returns the PNG with only the chunks of pngKeep. Every chunk's
// CRC is checked; IHDR must come first and IEND must end the file (trailing
// bytes are dropped).
func stripPNG(data []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil, broken(PNG, "no signature")
	}
	out := make([]byte, 0, len(data))
	out = append(out, sig...)
	for p, first := len(sig), true; ; first = false {
		if p+12 > len(data) {
			return nil, broken(PNG, "truncated before IEND")
		}
		n := binary.BigEndian.Uint32(data[p:])
		if n > 1<<31-1 || uint64(p)+12+uint64(n) > uint64(len(data)) {
			return nil, broken(PNG, "chunk at byte %d overruns the file", p)
		}
		chunk := data[p : p+12+int(n)]
		typ := string(chunk[4:8])
		if crc32.ChecksumIEEE(chunk[4:8+n]) != binary.BigEndian.Uint32(chunk[8+n:]) {
			return nil, broken(PNG, "bad CRC in chunk %q", typ)
		}
		if first != (typ == "IHDR") {
			return nil, broken(PNG, "IHDR is not the first chunk")
		}
		p += len(chunk)
		if pngKeep[typ] {
			out = append(out, chunk...)
		}
		if typ == "IEND" {
			return out, nil
		}
	}
}

// VP8X flags.
const (
	vp8xAnimation = 0x02
	vp8xXMP       = 0x04
	vp8xEXIF      = 0x08
)

// stripWebP returns the WebP without EXIF, XMP and unknown chunks (and
// with the flags of its extended header saying so). Animated WebP is
// refused: a photo is one still picture. The RIFF size is rewritten and
// bytes after the RIFF are dropped.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, broken(WebP, "no RIFF WEBP header")
	}
	end := 8 + uint64(binary.LittleEndian.Uint32(data[4:]))
	if end > uint64(len(data)) {
		return nil, broken(WebP, "RIFF size %d beyond the file", end)
	}
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	vp8x, coded := -1, false
	for p := uint64(12); p < end; {
		if p+8 > end {
			return nil, broken(WebP, "truncated chunk header")
		}
		fourcc := string(data[p : p+4])
		n := uint64(binary.LittleEndian.Uint32(data[p+4:]))
		next := p + 8 + n + n%2 // chunks are padded to even length
		if p+8+n > end {
			return nil, broken(WebP, "chunk %q overruns the file", fourcc)
		}
		chunk := data[p:min(next, end)]
		p = next
		switch fourcc {
		case "VP8X":
			if vp8x >= 0 || n < 10 {
				return nil, broken(WebP, "bad extended header")
			}
			if chunk[8]&vp8xAnimation != 0 {
				return nil, broken(WebP, "animated: a photo is one still picture")
			}
			vp8x = len(out)
			out = append(out, chunk...)
			out[vp8x+8] &^= vp8xEXIF | vp8xXMP
		case "VP8 ", "VP8L":
			coded = true
			out = append(out, chunk...)
		case "ALPH", "ICCP":
			out = append(out, chunk...)
		case "ANIM", "ANMF":
			return nil, broken(WebP, "animated: a photo is one still picture")
		}
		if len(out)%2 == 1 { // an odd last chunk without its pad byte
			out = append(out, 0)
		}
	}
	if !coded {
		return nil, broken(WebP, "no image chunk")
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
