package api

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/photo"
)

// maxPhotoBody leaves room for the multipart framing around a 10 MiB photo.
const maxPhotoBody = photo.MaxBytes + 64<<10

type createUploadRequest struct {
	ContentType *string `json:"content_type"`
	Size        *int64  `json:"size" expect:"an integer number of bytes"`
	SHA256      *string `json:"sha256"`
}

type uploadResponse struct {
	UploadID  string            `json:"upload_id"`
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expires_at"`
}

type photoResponse struct {
	PhotoID     string `json:"photo_id"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	SHA256      string `json:"sha256"`
}

func newPhotoResponse(p photo.Photo) photoResponse {
	return photoResponse{PhotoID: p.ID, ContentType: p.ContentType, Size: p.Size, Width: p.Width, Height: p.Height, SHA256: p.SHA256}
}

func (s *server) createUpload(c *gin.Context) {
	var req createUploadRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	if req.ContentType == nil {
		bad.Add("content_type", "required")
	}
	if req.Size == nil {
		bad.Add("size", "required")
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	sum := ""
	if req.SHA256 != nil {
		sum = *req.SHA256
	}
	pol, err := s.photos.CreateUpload(c.Request.Context(), caller(c), *req.ContentType, *req.Size, sum)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, uploadResponse{UploadID: pol.UploadID, URL: pol.URL.String(), Fields: pol.Fields, ExpiresAt: pol.ExpiresAt.UTC()})
}

func (s *server) completeUpload(c *gin.Context) {
	if _, err := readBody(c, maxJSONBody); err != nil {
		writeError(c, err)
		return
	}
	ph, err := s.photos.CompleteUpload(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, newPhotoResponse(ph))
}

// uploadPhoto takes one file in the multipart field "file".
func (s *server) uploadPhoto(c *gin.Context) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		writeError(c, errs.Invalid("body", photoBody.send))
		return
	}
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(c, errs.Invalid("body", "malformed multipart body"))
			return
		}
		if p.FormName() == "file" {
			part = p
			break
		}
	}
	if part == nil {
		writeError(c, errs.Invalid("file", "required"))
		return
	}
	ph, err := s.photos.Upload(c.Request.Context(), caller(c), part)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, newPhotoResponse(ph))
}

func (s *server) getPhoto(c *gin.Context)      { s.sendPhoto(c, false) }
func (s *server) getPhotoThumb(c *gin.Context) { s.sendPhoto(c, true) }

// sendPhoto answers a short-lived presigned redirect (MinIO) or the bytes.
func (s *server) sendPhoto(c *gin.Context, thumb bool) {
	content, err := s.photos.Open(c.Request.Context(), caller(c), c.Param("id"), thumb)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=60")
	// The content hash names the bytes on either store, so a phone that has
	// the photo gets 304 before any redirect or transfer.
	tag := `"` + content.SHA256 + `"`
	if thumb {
		tag = `"t-` + content.SHA256 + `"`
	}
	if matchNoneMatch(c, tag) {
		if content.Body != nil {
			content.Body.Close()
		}
		return
	}
	if content.Redirect != nil {
		c.Redirect(http.StatusFound, content.Redirect.String())
		return
	}
	defer content.Body.Close()
	c.Header("Content-Length", strconv.FormatInt(content.Size, 10))
	c.DataFromReader(http.StatusOK, content.Size, content.ContentType, content.Body, nil)
}
