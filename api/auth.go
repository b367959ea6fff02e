package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"pingan/internal/auth"
	"pingan/internal/errs"
)

type loginRequest struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

type refreshRequest struct {
	RefreshToken *string `json:"refresh_token"`
}

type tokenResponse struct {
	AccessToken  string       `json:"access_token"`
	TokenType    string       `json:"token_type"`
	ExpiresIn    int          `json:"expires_in"`
	RefreshToken string       `json:"refresh_token"`
	User         userResponse `json:"user"`
}

func newTokenResponse(t auth.Tokens) tokenResponse {
	return tokenResponse{AccessToken: t.AccessToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn,
		RefreshToken: t.RefreshToken, User: newUserResponse(t.User)}
}

func (s *server) login(c *gin.Context) {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	if req.Username == nil || strings.TrimSpace(*req.Username) == "" || len(*req.Username) > 64 {
		bad.Add("username", "required, at most 64 characters")
	}
	if req.Password == nil || *req.Password == "" || len(*req.Password) > 256 {
		bad.Add("password", "required, at most 256 bytes")
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	t, err := s.auth.Login(c.Request.Context(), strings.TrimSpace(*req.Username), *req.Password, c.ClientIP())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newTokenResponse(t))
}

func (s *server) bindRefresh(c *gin.Context) (string, bool) {
	var req refreshRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return "", false
	}
	if req.RefreshToken == nil || *req.RefreshToken == "" {
		writeError(c, errs.Invalid("refresh_token", "required"))
		return "", false
	}
	return *req.RefreshToken, true
}

func (s *server) refresh(c *gin.Context) {
	token, ok := s.bindRefresh(c)
	if !ok {
		return
	}
	t, err := s.auth.Refresh(c.Request.Context(), token)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newTokenResponse(t))
}

func (s *server) logout(c *gin.Context) {
	token, ok := s.bindRefresh(c)
	if !ok {
		return
	}
	if err := s.auth.Logout(c.Request.Context(), token); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
