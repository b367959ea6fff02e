// This file holds the pure image part of photo handling: the real type is
// read from the bytes, metadata is removed without re-encoding (strip.go),
// decompression bombs are refused from the header before any decoding, and
// thumbnails are decoded, turned upright and encoded anew.

package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"

	"pingan/internal/errs"
)

// Content types of accepted photos (SPEC §6.3).
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
)

// MaxBytes is the largest photo accepted, in bytes (SPEC §6.3: 10 MiB).
const MaxBytes = 10 << 20

// MaxPixels is the largest pixel count decoded. A few kilobytes of PNG can
// claim gigapixels, so the header is checked against this before any pixel
// memory is allocated. 50 MP admits the 48–50 MP sensors of current phones.
const MaxPixels = 50_000_000

// ThumbSize is the longest side of a thumbnail, in pixels.
const ThumbSize = 320

const jpegQuality = 85

var errNotImage = fmt.Errorf("not a JPEG, PNG or WebP image: %w", errs.ErrInvalid)

// Detect returns the real content type of an image from its first bytes
// (15 are enough): JPEG, PNG or WebP. The type an upload declares is never
// trusted. Returns an error wrapping errs.ErrInvalid for anything else (HTML,
// GIF, SVG, empty or truncated input).
func Detect(head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return JPEG, nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case len(head) >= 15 && string(head[:4]) == "RIFF" && string(head[8:15]) == "WEBPVP8":
		// The first chunk is "VP8 " (lossy), "VP8L" (lossless) or "VP8X" (extended).
		return WebP, nil
	}
	return "", errNotImage
}

// Clean is a sanitised photo ready to store.
type Clean struct {
	// Data is the photo as it was coded, with its metadata removed: no EXIF
	// (GPS, camera, times) but a lone Orientation tag, no XMP, IPTC,
	// comments, PNG text chunks or appended data. ICC profiles stay, as
	// they are needed to show the colours.
	Data []byte
	// ContentType is the real type, read from the bytes.
	ContentType string
	// Width and Height are the upright dimensions (after orientation).
	Width, Height int
	// Orientation is the EXIF orientation (1–8) kept in Data; 1 for PNG and WebP.
	Orientation int
	// SHA256 is the lower-case hex SHA-256 of Data.
	SHA256 string
}

// Sanitize reads one photo from r, reading at most MaxBytes+1 bytes, and
// returns it without metadata. The coded pixels are not touched, so this
// costs a copy of the bytes (a few milliseconds for a 3 MiB photo); the
// thumbnail, which needs the pixels, is made by Thumbnail.
// Returns an error wrapping errs.ErrTooLarge when r holds more than MaxBytes,
// and errs.ErrInvalid when the bytes are not a JPEG, PNG or WebP image
// (whatever type was declared), their structure is broken or truncated, or
// the header claims more than MaxPixels; an error reading r is returned
// wrapped as it is.
func Sanitize(r io.Reader) (Clean, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Clean{}, fmt.Errorf("read photo: %w", err)
	}
	if len(data) > MaxBytes {
		return Clean{}, fmt.Errorf("photo over %d bytes: %w", MaxBytes, errs.ErrTooLarge)
	}
	kind, err := Detect(data)
	if err != nil {
		return Clean{}, err
	}
	out := Clean{ContentType: kind, Orientation: 1}
	switch kind {
	case JPEG:
		out.Data, out.Orientation, err = stripJPEG(data)
	case PNG:
		out.Data, err = stripPNG(data)
	default:
		out.Data, err = stripWebP(data)
	}
	if err != nil {
		return Clean{}, err
	}
	cfg, err := header(kind, out.Data)
	if err != nil {
		return Clean{}, err
	}
	out.Width, out.Height = cfg.Width, cfg.Height
	if out.Orientation >= 5 { // the orientations that swap width and height
		out.Width, out.Height = cfg.Height, cfg.Width
	}
	sum := sha256.Sum256(out.Data)
	out.SHA256 = hex.EncodeToString(sum[:])
	return out, nil
}

// Thumbnail decodes a photo Sanitize returned and makes its thumbnail: a
// JPEG without metadata, upright, whose longest side is ThumbSize (or the
// photo's own size when smaller). Decoding is the expensive part of photo
// handling — about 0.3 s of CPU and 18–50 MB for a 12 MP phone photo (four
// times that at MaxPixels) — so callers should bound how many run at once.
// Returns an error wrapping errs.ErrInvalid when the pixels cannot be decoded.
func Thumbnail(data []byte) ([]byte, error) {
	kind, err := Detect(data)
	if err != nil {
		return nil, err
	}
	img, err := decode(kind, data)
	if err != nil {
		return nil, err
	}
	small := thumbnail(img)
	if kind == JPEG {
		small = orient(small, exifOrientation(data))
	}
	var b bytes.Buffer
	if err := encodeJPEG(&b, small); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return b.Bytes(), nil
}

// header reads the dimensions from the header and checks them against
// MaxPixels.
func header(kind string, data []byte) (image.Config, error) {
	decodeConfig := jpeg.DecodeConfig
	switch kind {
	case PNG:
		decodeConfig = png.DecodeConfig
	case WebP:
		decodeConfig = webp.DecodeConfig
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return image.Config{}, fmt.Errorf("read %s header: %v: %w", kind, err, errs.ErrInvalid)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return image.Config{}, fmt.Errorf("image of %d×%d pixels, limit %d: %w", cfg.Width, cfg.Height, MaxPixels, errs.ErrInvalid)
	}
	return cfg, nil
}

// decode checks the header against MaxPixels, then decodes the pixels.
func decode(kind string, data []byte) (image.Image, error) {
	if _, err := header(kind, data); err != nil {
		return nil, err
	}
	decodeImage := jpeg.Decode
	switch kind {
	case PNG:
		decodeImage = png.Decode
	case WebP:
		decodeImage = webp.Decode
	}
	img, err := decodeImage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %v: %w", kind, err, errs.ErrInvalid)
	}
	return img, nil
}

// thumbnail fits img into ThumbSize×ThumbSize. A filtered resize of a 12 MP
// photo reads every source pixel (about 100 ms here); picking every n-th
// pixel down to three times the target first and filtering only that costs
// about 20 ms and still smooths away most aliasing.
func thumbnail(img image.Image) image.Image {
	const mid = 3 * ThumbSize
	if b := img.Bounds(); b.Dx() > 2*mid || b.Dy() > 2*mid {
		img = imaging.Fit(img, mid, mid, imaging.NearestNeighbor)
	}
	return imaging.Fit(img, ThumbSize, ThumbSize, imaging.Linear)
}

// encodeJPEG writes img as a JPEG. Go's encoder is fast only for YCbCr, Gray
// and RGBA images; anything else, and anything translucent (JPEG has no alpha,
// and the encoder would turn transparency black), is first drawn onto white.
func encodeJPEG(w io.Writer, img image.Image) error {
	switch m := img.(type) {
	case *image.YCbCr, *image.Gray, *image.RGBA:
	case *image.NRGBA:
		if m.Opaque() {
			// Opaque NRGBA pixels are the same bytes as RGBA ones.
			img = &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
			break
		}
		img = onWhite(m)
	default:
		img = onWhite(m)
	}
	return jpeg.Encode(w, img, &jpeg.Options{Quality: jpegQuality})
}

func onWhite(img image.Image) *image.RGBA {
	flat := image.NewRGBA(img.Bounds())
	draw.Draw(flat, flat.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
	return flat
}

// orient turns img upright for EXIF orientation o (1–8); other values
// leave it as it is. Only thumbnails are turned, so imaging's NRGBA copy is
// cheap enough.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // imaging turns counter-clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// exifOrientation returns the EXIF Orientation (1–8) of a JPEG, or 1 when
// there is none or the EXIF cannot be read.
func exifOrientation(data []byte) int {
	p := 2 // after SOI
	for p+4 <= len(data) && data[p] == 0xff {
		marker, size := data[p+1], int(binary.BigEndian.Uint16(data[p+2:]))
		if marker == 0xda || marker == 0xd9 || size < 2 || p+2+size > len(data) {
			return 1 // start of scan, end of image or a broken segment
		}
		seg := data[p+4 : p+2+size]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + size
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	n := int64(bo.Uint16(t[ifd:]))
	for e := ifd + 2; e+12 <= int64(len(t)) && e < ifd+2+12*n; e += 12 {
		const tagOrientation, typeShort = 0x0112, 3
		if bo.Uint16(t[e:]) == tagOrientation && bo.Uint16(t[e+2:]) == typeShort {
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}
