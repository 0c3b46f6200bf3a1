package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// notificationView adds the contract's relatedUserId (the actor) to a notification.
type notificationView struct {
	*deskline.Notification
	RelatedUserID string `json:"relatedUserId"`
}

func viewNotifications(ns []*deskline.Notification) []notificationView {
	out := make([]notificationView, len(ns))
	for i, n := range ns {
		out[i] = notificationView{Notification: n, RelatedUserID: n.ActorID}
	}
	return out
}

func notificationFilter(r *httpapi.Request, withRead bool) (dynamo.NotificationFilter, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return dynamo.NotificationFilter{}, err
	}
	f := dynamo.NotificationFilter{Limit: pg.Limit, Cursor: pg.Cursor}
	if v := r.Query.Get("isRead"); v != "" && withRead {
		if v != "true" && v != "false" {
			return f, deskline.Invalid("isRead", "isRead must be true or false")
		}
		b := v == "true"
		f.IsRead = &b
	}
	if v := r.Query.Get("type"); v != "" {
		if !slices.Contains(deskline.NotificationTypes, deskline.NotificationType(v)) {
			return f, deskline.Invalid("type", "Unknown notification type")
		}
		f.Type = deskline.NotificationType(v)
	}
	return f, nil
}

// ListNotifications lists the caller's notifications, newest first.
func (s *Server) ListNotifications(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := notificationFilter(r, true)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListNotifications(ctx, r.Principal.UserID, f)
	if err != nil {
		return nil, err
	}
	return httpapi.List(viewNotifications(page.Items), page.NextCursor), nil
}

// ListRelatedNotifications lists notifications others received about what
// the caller did, newest first.
func (s *Server) ListRelatedNotifications(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := notificationFilter(r, false)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListRelatedNotifications(ctx, r.Principal.UserID, f)
	if err != nil {
		return nil, err
	}
	return httpapi.List(viewNotifications(page.Items), page.NextCursor), nil
}

// UnreadCount counts the caller's unread notifications.
func (s *Server) UnreadCount(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	n, err := s.Store.UnreadCount(ctx, r.Principal.UserID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]int{"count": n}), nil
}

// MarkNotificationRead marks one of the caller's notifications read;
// another user's is 404.
func (s *Server) MarkNotificationRead(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id := r.Param("id")
	if !deskline.ValidID(deskline.PrefixNotification, id) {
		return nil, deskline.Errorf(deskline.ENOTFOUND, "Notification not found")
	}
	n, err := s.Store.MarkNotificationRead(ctx, r.Principal.UserID, id)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, notificationView{Notification: n, RelatedUserID: n.ActorID}), nil
}

// MarkAllNotificationsRead marks all the caller's notifications read.
func (s *Server) MarkAllNotificationsRead(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	n, err := s.Store.MarkAllNotificationsRead(ctx, r.Principal.UserID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"message": "All notifications marked as read", "updated": n}), nil
}
