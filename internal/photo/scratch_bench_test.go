package photo

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/jpeg"
	"io"
	"testing"

	"github.com/disintegration/imaging"
)

// straightforward: imaging.Decode(AutoOrientation) + jpeg.Encode + Fit Linear.
func naive(data []byte, rgbaAlias, cheapThumb bool) {
	img, _ := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	var buf bytes.Buffer
	enc := img
	if n, ok := img.(*image.NRGBA); ok && rgbaAlias {
		enc = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	jpeg.Encode(&buf, enc, &jpeg.Options{Quality: 85})
	sha256.Sum256(buf.Bytes())
	var th image.Image
	if cheapThumb {
		th = thumbnail(img)
	} else {
		th = imaging.Fit(img, 320, 320, imaging.Linear)
	}
	jpeg.Encode(io.Discard, th, &jpeg.Options{Quality: 85})
}

func BenchmarkScratch(b *testing.B) {
	up := noisyJPEG(b)
	rot := afterSOI(up, exifAPP1(6))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"naive/upright", func() { naive(up, false, false) }},
		{"naive/o6", func() { naive(rot, false, false) }},
		{"naive+alias/o6", func() { naive(rot, true, false) }},
		{"naive+alias+thumb/o6", func() { naive(rot, true, true) }},
		{"final/upright", func() { Sanitize(bytes.NewReader(up)) }},
		{"final/o6", func() { Sanitize(bytes.NewReader(rot)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f()
			}
		})
	}
}

func BenchmarkScratchSteps(b *testing.B) {
	data := noisyJPEG(b)
	img, _ := jpeg.Decode(bytes.NewReader(data))
	y := img.(*image.YCbCr)
	nrgba := imaging.Rotate270(img)
	b.Run("jpeg.Decode", func(b *testing.B) {
		for b.Loop() {
			jpeg.Decode(bytes.NewReader(data))
		}
	})
	b.Run("jpeg.Encode-YCbCr-q85", func(b *testing.B) {
		for b.Loop() {
			jpeg.Encode(io.Discard, img, &jpeg.Options{Quality: 85})
		}
	})
	b.Run("jpeg.Encode-NRGBA-q85", func(b *testing.B) {
		for b.Loop() {
			jpeg.Encode(io.Discard, nrgba, &jpeg.Options{Quality: 85})
		}
	})
	b.Run("imaging.Rotate270", func(b *testing.B) {
		for b.Loop() {
			imaging.Rotate270(img)
		}
	})
	b.Run("orientYCbCr-6", func(b *testing.B) {
		for b.Loop() {
			orientYCbCr(y, 6)
		}
	})
	b.Run("Fit-Linear", func(b *testing.B) {
		for b.Loop() {
			imaging.Fit(img, 320, 320, imaging.Linear)
		}
	})
	b.Run("thumbnail-NN960+Linear", func(b *testing.B) {
		for b.Loop() {
			thumbnail(img)
		}
	})
}
