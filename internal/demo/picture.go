package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
)

// Picture draws demo photo n: a 640×480 street-like scene of sky, road and
// a coloured block, different for each n, as a JPEG.
func Picture(n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	block := []color.RGBA{{200, 60, 50, 255}, {240, 180, 40, 255}, {60, 140, 70, 255}, {70, 90, 200, 255}, {150, 80, 160, 255}, {90, 90, 90, 255}}[n%6]
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			c := color.RGBA{uint8(120 + y/6), uint8(170 + y/8), 235, 255} // sky
			switch {
			case y > 300:
				c = color.RGBA{uint8(70 + (x+y)%9), 70, 75, 255} // road
			case x > 180+40*n%200 && x < 360+40*n%200 && y > 140:
				c = block
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}
