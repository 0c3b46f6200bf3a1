package cloud

import (
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/deskline/deskline/shared/dynamo"
)

//go:embed web/index.html
var indexHTML string

// outboxLimit is how many messages GET /_local/mail shows.
const outboxLimit = 50

// webHandler serves the local cloud's page at "/": log in, watch
// notifications arrive live, send messages; and GET /_local/mail?to=<email>,
// the newest mail the local stage put in that address's outbox instead of
// sending it (reset tokens, notification e-mails, scheduled reports).
// Anything else is API Gateway's 404.
func webHandler(wsURL string, store *dynamo.Store, log *slog.Logger) http.Handler {
	page := strings.ReplaceAll(indexHTML, "{{WS_URL}}", wsURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_local/mail" && r.Method == http.MethodGet {
			serveOutbox(w, r, store, log)
			return
		}
		if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' "+wsURL+"; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		_, _ = w.Write([]byte(page))
	})
}

func serveOutbox(w http.ResponseWriter, r *http.Request, store *dynamo.Store, log *slog.Logger) {
	w.Header().Set("Content-Type", "application/json")
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	if to == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"to (an e-mail address) is required","field":"to"}`))
		return
	}
	mails, err := store.Outbox(r.Context(), to, outboxLimit)
	if err != nil {
		log.Error("read outbox", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"Internal error"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(mails)
}
