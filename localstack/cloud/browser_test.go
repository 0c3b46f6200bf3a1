package cloud_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which `make test` installs when missing.
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium with a fresh profile and returns a tab's
// context; what the page logs as a warning or an error, and what it throws,
// goes to the test log.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("DESKLINE_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is missing: run `make test`, which installs Debian's chromium", chromiumPath)
		}
		t.Skipf("%s is missing: `apt-get install chromium` or run `make test`", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	if err := chromedp.Do(ctx); err != nil { // starts the browser and the tab
		cancelTime()
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			switch {
			case strings.HasSuffix(m.URL, "/favicon.ico"): // the page has none
			case m.Type == chromedp.ConsoleWarning, m.Type == chromedp.ConsoleError, m.Type == chromedp.ConsoleException:
				t.Logf("page %s: %s %s", m.Type, m.Text, m.URL)
			}
		}
	}()
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc(); <-done })
	return ctx
}

// screenshot saves the page when a test has failed, for a look.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	if !t.Failed() || ctx.Err() != nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	f := filepath.Join(os.TempDir(), fmt.Sprintf("deskline-%s.png", strings.ReplaceAll(t.Name(), "/", "_")))
	if err := os.WriteFile(f, png, 0o644); err == nil {
		t.Logf("screenshot of the page: %s", f)
	}
}

// The local cloud's page: user A (empA) logs in, user B (headA) changes A's
// ticket through the API, and A's page shows the notification live; A then
// sends B a message from the page.
func TestBrowserShowsLiveNotification(t *testing.T) {
	w := newWorld(t)
	ctx := browser(t)
	defer screenshot(t, ctx)
	poll := func(expr string) chromedp.Action[bool] {
		return chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))
	}

	emp := w.call(t, w.empA)
	me := emp.do("GET", "/api/auth/me", nil).obj(t)
	ticket := mustCreate(t, emp, "/api/tickets", ticketBody(w.deptA, map[string]any{"title": "Projector flickers"}))
	key := ticket["key"].(string)
	waitProjected(t, w)
	before := unreadCount(t, w, w.empA) // taskA's assignment

	if err := chromedp.Do(ctx,
		chromedp.Navigate(w.cloud.HTTPURL+"/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("email"), me["email"].(string)),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login-button")),
		chromedp.WaitVisible(chromedp.ID("notifications-section")),
	); err != nil {
		t.Fatalf("log in on the page: %v", err)
	}
	if _, err := chromedp.Run(ctx, poll(`document.getElementById("status").dataset.state === "live"`)); err != nil {
		t.Fatalf("the page's socket is not live: %v", err)
	}
	if who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("who"))); err != nil || !strings.Contains(who, me["username"].(string)) {
		t.Errorf("the page shows %q as the user (%v)", who, err)
	}

	// B changes A's ticket.
	mustPut(t, w.call(t, w.headA), "/api/tickets/"+ticket["id"].(string), map[string]any{"status": "in_progress"})

	if _, err := chromedp.Run(ctx, poll(fmt.Sprintf(
		`[...document.querySelectorAll("#notifications li")].some(li => li.textContent.includes(%q) && li.textContent.includes("in_progress"))`, key))); err != nil {
		t.Fatalf("the notification did not show: %v", err)
	}
	sel := chromedp.CSS(`#notifications li[data-type="ticket_status_changed"]`)
	text, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatal(err)
	}
	unread, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("unread")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, key) || !strings.Contains(text, "Projector flickers") || unread != fmt.Sprint(before+1) {
		t.Errorf("shown: %q, unread badge %q", text, unread)
	}

	// A sends B a message from the page, over the socket.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("to"), w.headAID),
		chromedp.SendKeys(chromedp.ID("body"), "Thanks, it works again"),
		chromedp.Click(chromedp.CSS(`#send button[type="submit"]`)),
	); err != nil {
		t.Fatalf("send a message from the page: %v", err)
	}
	if _, err := chromedp.Run(ctx, poll(`document.getElementById("send-result").textContent !== ""`)); err != nil {
		t.Fatalf("no send result: %v", err)
	}
	if result, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("send-result"))); err != nil || result != "Sent." {
		t.Errorf("send result %q (%v)", result, err)
	}
	if h := history(t, w, w.headA, w.empAID); len(h) != 1 || h[0]["body"] != "Thanks, it works again" {
		t.Errorf("headA's history with empA: %v", h)
	}
}
