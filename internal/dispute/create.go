package dispute

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/intake"
	"pingan/internal/region"
	"pingan/internal/text"
)

// NewDispute is what a registration carries.
type NewDispute struct {
	Category        string
	Description     string
	Location        Location
	OccurredAt      time.Time
	ClientCreatedAt *time.Time
	RegionCode      string // the grid; a grid worker may leave it out
	PhotoIDs        []string
	Parties         []Party
	Amount          *int64
	Risk            Risk
}

// CreateDispute validates and registers a dispute at the community level of
// its grid. Returns errs.FieldErrors, or errs.ErrForbidden when the grid
// lies outside the reporter's subtree.
func (s *Service) CreateDispute(ctx context.Context, p access.Principal, in NewDispute) (Dispute, error) {
	now := s.now()
	grid, err := intake.Grid(ctx, s.regions, p, in.RegionCode)
	if err != nil {
		return Dispute{}, err
	}
	if err := intake.Join(s.validate(ctx, in, now), s.places.Check(ctx, grid, in.Location)); err != nil {
		return Dispute{}, err
	}
	place := access.PlaceOf(grid.Path)
	city := strings.SplitN(strings.Trim(grid.Path, "/"), "/", 2)[0]
	d := Dispute{
		ID: uuid.Must(uuid.NewV7()).String(), Category: in.Category, Description: strings.TrimSpace(in.Description),
		Location: in.Location, RegionCode: grid.Code, CommunityCode: place.Community,
		TownshipCode: place.Township, CountyCode: place.County, CityCode: city,
		OccurredAt: in.OccurredAt, ReportedAt: now, ClientCreatedAt: in.ClientCreatedAt, ReporterID: p.UserID,
		PhotoIDs: in.PhotoIDs, Parties: in.Parties, Amount: in.Amount, Risk: in.Risk, Status: Registered,
		Level: region.Community, LevelCode: place.Community, EnteredLevelAt: now, Version: 1,
		CreatedAt: now, UpdatedAt: now,
	}
	if d.PhotoIDs == nil {
		d.PhotoIDs = []string{}
	}
	for i := range d.Parties {
		d.Parties[i].Name = strings.TrimSpace(d.Parties[i].Name)
		d.Parties[i].Phone = normalisePhone(d.Parties[i].Phone)
		d.Parties[i].IDNumber = strings.ToUpper(strings.TrimSpace(d.Parties[i].IDNumber))
	}
	d.DueAt = s.deadlines.due(d)
	prefix := "JF-" + d.CountyCode + "-" + now.In(s.loc).Format("20060102")
	n, err := s.store.NextCaseNumber(ctx, prefix)
	if err != nil {
		return Dispute{}, err
	}
	d.CaseNo = fmt.Sprintf("%s-%04d", prefix, n)
	ev := s.event(ctx, p, d, "create", "", Registered, "", map[string]any{"level": d.Level, "level_code": d.LevelCode}, now)
	change := facts(Dispute{}, d, ev)
	details, _ := json.Marshal(map[string]any{"case_no": d.CaseNo, "region_code": d.RegionCode, "risk": d.Risk, "parties": len(d.Parties)})
	notices, err := s.newCaseNotices(ctx, p, d)
	if err != nil {
		return Dispute{}, err
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateDispute(ctx, d, ev, change); err != nil {
			return err
		}
		if len(d.PhotoIDs) > 0 {
			if err := s.photos.AttachPhotos(ctx, "dispute", d.ID, p.UserID, d.PhotoIDs); err != nil {
				return err
			}
		}
		if err := s.notifier.NotifyDisputes(ctx, notices); err != nil {
			return err
		}
		// An earlier day's index and warnings must count it.
		if err := s.index.QueueJobs(ctx, s.index.LateJobs(d.OccurredAt)); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "dispute.create", "dispute", d.ID, string(details)).In(grid.Path))
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

// validate checks what a registration carries. An array's length is
// checked before its elements, which are looked at only when it is within
// its limit (SPEC §6: the work of refusing is bounded by the limits, not
// by what was sent).
func (s *Service) validate(ctx context.Context, in NewDispute, now time.Time) error {
	bad := errs.FieldErrors{}
	if err := intake.CheckCategory(ctx, s.categories, bad, category.Dispute, in.Category); err != nil {
		return err
	}
	if !in.Risk.Valid() {
		bad.Add("risk_level", "one of low, medium, high")
	}
	intake.CheckText(bad, "description", in.Description, true)
	intake.Report{Location: in.Location, OccurredAt: givenTime(in.OccurredAt), ClientCreatedAt: in.ClientCreatedAt,
		PhotoIDs: in.PhotoIDs}.Check(bad, now)
	if in.Amount != nil && (*in.Amount < 0 || *in.Amount > MaxAmount) {
		bad.Add("amount", fmt.Sprintf("an integer number of fen, from 0 to %d", int64(MaxAmount)))
	}
	if len(in.Parties) == 0 || len(in.Parties) > MaxParties {
		bad.Add("parties", fmt.Sprintf("from 1 to %d parties", MaxParties))
		return bad.Err()
	}
	for i, pt := range in.Parties {
		f := fmt.Sprintf("parties[%d]", i)
		if pt.Role != Applicant && pt.Role != Respondent && pt.Role != Other {
			bad.Add(f+".role", "one of applicant, respondent, other")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(pt.Name)); n == 0 || n > 64 || !text.Clean(pt.Name, false) {
			bad.Add(f+".name", "required, at most 64 characters")
		}
		if ph := normalisePhone(pt.Phone); ph != "" && !validPhone(ph) {
			bad.Add(f+".phone", intake.PhoneForm)
		}
		if id := strings.ToUpper(strings.TrimSpace(pt.IDNumber)); id != "" && !validIDNumber(id) {
			bad.Add(f+".id_number", intake.IDNumberForm)
		}
	}
	return bad.Err()
}

// givenTime is a time the client gave, for intake's checks: the API says
// "required" itself for one left out, so a zero time here was sent as
// 0001-01-01T00:00:00Z, and must be refused for its range like any other
// year 1, not taken for a missing one.
func givenTime(t time.Time) time.Time {
	if t.IsZero() {
		return t.Add(time.Nanosecond)
	}
	return t
}
