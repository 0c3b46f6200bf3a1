package cloud

import (
	_ "embed"
	"net/http"
	"strings"
)

//go:embed web/index.html
var indexHTML string

// webHandler serves the local cloud's page at "/": log in, watch
// notifications arrive live, send messages. Anything else is API Gateway's 404.
func webHandler(wsURL string) http.Handler {
	page := strings.ReplaceAll(indexHTML, "{{WS_URL}}", wsURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
