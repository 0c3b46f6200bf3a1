package api

import (
	"context"
	"net/http"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/httpapi"
)

// The dashboard routes of docs/analytics.md that the original computed from
// rows it wrote on demand: here they read the same aggregates as the other
// analytics routes, with the same range, filter and scope rules.

// UpdateMetrics answers the contract's POST /update-metrics (admins). The
// original wrote today's metric rows for every department and its users on
// demand; here the stream projector keeps every aggregate current as items
// change (docs/analytics.md), so there is nothing to update: it writes
// nothing, reads nothing, and answers as the original did.
func (s *Server) UpdateMetrics(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.Message(http.StatusOK, "Metrics updated successfully"), nil
}

// DepartmentDashboardTrends compares the first half of the range with the
// second for every department metric the day buckets give:
// [{metric, trend (up, down, flat), from, to}] (see analytics.CompareHalves
// and analytics.FlatTolerance). One GetItem (the department) and one Query.
func (s *Server) DepartmentDashboardTrends(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, analytics.CompareHalves(series, rng, s.today())), nil
}
