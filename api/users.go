package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/user"
)

type userResponse struct {
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	Role       string    `json:"role"`
	RegionCode string    `json:"region_code"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// newUserResponse masks the phone: personal data never leaves unmasked.
func newUserResponse(u user.User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, Name: u.Name, Phone: pii.MaskPhone(u.Phone), Role: string(u.Role),
		RegionCode: u.RegionCode, Active: u.Active, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

type createUserRequest struct {
	Username   *string `json:"username"`
	Password   *string `json:"password"`
	Name       *string `json:"name"`
	Phone      *string `json:"phone"`
	Role       *string `json:"role"`
	RegionCode *string `json:"region_code"`
}

type patchUserRequest struct {
	Name       *string `json:"name"`
	Phone      *string `json:"phone"`
	Role       *string `json:"role"`
	RegionCode *string `json:"region_code"`
	Active     *bool   `json:"active"`
	Password   *string `json:"password"`
}

func (s *server) me(c *gin.Context) {
	u, err := s.users.FindUser(c.Request.Context(), caller(c), caller(c).UserID)
	if err != nil {
		writeError(c, err)
		return
	}
	sendTagged(c, newUserResponse(u))
}

func (s *server) listUsers(c *gin.Context) {
	if err := checkQuery(c, "role", "region", "limit", "cursor"); err != nil {
		writeError(c, err)
		return
	}
	limit, err := pageLimit(c)
	if err != nil {
		writeError(c, err)
		return
	}
	after, err := s.cursors.decode(c)
	if err != nil {
		writeError(c, err)
		return
	}
	f := user.Filter{Role: access.Role(c.Query("role")), RegionCode: c.Query("region"), After: after, Limit: limit + 1}
	if f.Role != "" && !f.Role.Valid() {
		writeError(c, errs.Invalid("role", "one of grid_worker, mediator, supervisor, admin"))
		return
	}
	users, err := s.users.FindUsers(c.Request.Context(), caller(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]userResponse, len(users))
	for i, u := range users {
		out[i] = newUserResponse(u)
	}
	c.JSON(http.StatusOK, newPage(out, limit, s.cursors, func(u userResponse) string { return u.Username }))
}

func (s *server) createUser(c *gin.Context) {
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	for field, v := range map[string]*string{"username": req.Username, "password": req.Password, "name": req.Name,
		"role": req.Role, "region_code": req.RegionCode} {
		if v == nil {
			bad.Add(field, "required")
		}
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	in := user.NewUser{Username: *req.Username, Password: *req.Password, Name: *req.Name, Role: access.Role(*req.Role),
		RegionCode: *req.RegionCode}
	if req.Phone != nil {
		in.Phone = *req.Phone
	}
	u, err := s.users.CreateUser(c.Request.Context(), caller(c), in)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, newUserResponse(u))
}

func (s *server) getUser(c *gin.Context) {
	u, err := s.users.FindUser(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	sendTagged(c, newUserResponse(u))
}

func (s *server) patchUser(c *gin.Context) {
	var req patchUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	up := user.Update{Name: req.Name, Phone: req.Phone, RegionCode: req.RegionCode, Active: req.Active, Password: req.Password}
	if req.Role != nil {
		r := access.Role(*req.Role)
		up.Role = &r
	}
	u, err := s.users.UpdateUser(c.Request.Context(), caller(c), c.Param("id"), up)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newUserResponse(u))
}
