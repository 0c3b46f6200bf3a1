package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// IdempotencyTTL is how long a create's Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// createFunc performs a create. It must render its response before writing
// and, when rec is non-nil, store rec (filled with that response) in the
// same transaction as the entity.
type createFunc func(rec *dynamo.Idem) (*httpapi.Response, error)

// idempotent runs a create under the request's Idempotency-Key, if any: the
// same key and body within IdempotencyTTL return the first response and
// create nothing; the same key with another body is 422.
func (s *Server) idempotent(ctx context.Context, r *httpapi.Request, create createFunc) (*httpapi.Response, error) {
	k := r.Header("Idempotency-Key")
	if k == "" {
		return create(nil)
	}
	if len(k) > 255 {
		return nil, deskline.Invalid("Idempotency-Key", "Idempotency-Key must be at most 255 characters")
	}
	sum := sha256.Sum256([]byte(r.Method + " " + r.Path + "\n" + string(r.Body)))
	hash := hex.EncodeToString(sum[:])
	scope := r.Principal.UserID + "\x00" + k
	replay := func(rec *dynamo.Idem) (*httpapi.Response, error) {
		if rec.RequestHash != hash {
			return nil, deskline.Errorf(deskline.EUNPROCESSABLE, "Idempotency-Key was already used with a different request")
		}
		return &httpapi.Response{Status: rec.Status, Body: httpapi.RawBody(rec.Body), Headers: map[string]string{"Idempotent-Replayed": "true"}}, nil
	}
	rec, err := s.Store.GetIdem(ctx, scope)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		return replay(rec)
	}
	now := s.Clock.Now()
	rec = &dynamo.Idem{Scope: scope, RequestHash: hash, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL).Unix()}
	resp, err := create(rec)
	if err == dynamo.ErrIdemRace {
		// A concurrent request with the same key won; answer as it did.
		if prev, gerr := s.Store.GetIdem(ctx, scope); gerr == nil && prev != nil {
			return replay(prev)
		}
	}
	return resp, err
}

// render fills rec with the response a create will give, before the write.
func render(rec *dynamo.Idem, resp *httpapi.Response) error {
	if rec == nil {
		return nil
	}
	b, err := json.Marshal(resp.Body)
	if err != nil {
		return fmt.Errorf("render response: %w", err)
	}
	rec.Status, rec.Body = resp.Status, string(b)
	return nil
}

// etag returns the ETag of a version.
func etag(version int64) string { return fmt.Sprintf(`"%d"`, version) }

// withETag sets the ETag header of a response.
func withETag(resp *httpapi.Response, version int64) *httpapi.Response {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["ETag"] = etag(version)
	resp.Headers["Access-Control-Expose-Headers"] = "ETag"
	return resp
}

// checkIfMatch compares an If-Match header with the stored version: a
// mismatch is 412. "*" and no header match anything.
func checkIfMatch(r *httpapi.Request, version int64) error {
	h := r.Header("If-Match")
	if h == "" || h == "*" {
		return nil
	}
	for _, v := range splitETags(h) {
		if v == etag(version) || v == "W/"+etag(version) {
			return nil
		}
	}
	return &deskline.Error{Code: deskline.EPRECONDITION, Message: fmt.Sprintf("The resource is at version %d; If-Match does not match", version)}
}

func splitETags(h string) []string {
	parts := strings.Split(h, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}
