package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"pingan/internal/category"
	"pingan/internal/errs"
)

type categoryResponse struct {
	Code   string `json:"code"`
	Kind   string `json:"kind"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Active bool   `json:"active"`
}

func newCategoryResponse(c category.Category) categoryResponse {
	return categoryResponse{Code: c.Code, Kind: string(c.Kind), NameZH: c.NameZH, NameEN: c.NameEN, Active: c.Active}
}

type createCategoryRequest struct {
	Code   *string `json:"code"`
	Kind   *string `json:"kind"`
	NameZH *string `json:"name_zh"`
	NameEN *string `json:"name_en"`
	Active *bool   `json:"active"`
}

type patchCategoryRequest struct {
	NameZH *string `json:"name_zh"`
	NameEN *string `json:"name_en"`
	Active *bool   `json:"active"`
}

func (s *server) listCategories(c *gin.Context) {
	if err := checkQuery(c, "kind"); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.categories.FindCategories(c.Request.Context(), category.Kind(c.Query("kind")))
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]categoryResponse, len(cs))
	for i, x := range cs {
		out[i] = newCategoryResponse(x)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *server) createCategory(c *gin.Context) {
	var req createCategoryRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	bad := errs.FieldErrors{}
	for field, v := range map[string]*string{"code": req.Code, "kind": req.Kind, "name_zh": req.NameZH, "name_en": req.NameEN} {
		if v == nil {
			bad.Add(field, "required")
		}
	}
	if err := bad.Err(); err != nil {
		writeError(c, err)
		return
	}
	in := category.Category{Code: *req.Code, Kind: category.Kind(*req.Kind), NameZH: *req.NameZH, NameEN: *req.NameEN, Active: true}
	if req.Active != nil {
		in.Active = *req.Active
	}
	out, err := s.categories.CreateCategory(c.Request.Context(), caller(c), in)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, newCategoryResponse(out))
}

func (s *server) patchCategory(c *gin.Context) {
	var req patchCategoryRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	out, err := s.categories.UpdateCategory(c.Request.Context(), caller(c), category.Kind(c.Param("kind")), c.Param("code"),
		category.Update{NameZH: req.NameZH, NameEN: req.NameEN, Active: req.Active})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newCategoryResponse(out))
}
