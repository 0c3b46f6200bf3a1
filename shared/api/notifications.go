package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// notificationView is a notification as the contract shows it: the actor
// as relatedUserId, the task or ticket it is about ({id, title, status};
// null when there is none, or when the caller may no longer read it), and
// the other person: relatedUser (who acted) in the caller's list,
// recipient (who was told) in the list of what the caller did.
type notificationView struct {
	*deskline.Notification
	RelatedUserID string     `json:"relatedUserId"`
	Task          *workRef   `json:"task"`
	Ticket        *workRef   `json:"ticket"`
	RelatedUser   *personRef `json:"relatedUser,omitempty"`
	Recipient     *personRef `json:"recipient,omitempty"`
}

// workRef is a ticket or task embedded in a notification.
type workRef struct {
	ID     string `json:"id"`
	Key    string `json:"key,omitempty"` // tickets
	Title  string `json:"title"`
	Status string `json:"status"`
}

// viewNotifications embeds what ns are about and who the other person is
// (relatedUser when related is false, recipient when it is true), read in
// one BatchGetItem.
func (s *Server) viewNotifications(ctx context.Context, r *httpapi.Request, ns []*deskline.Notification, related bool) ([]notificationView, error) {
	var ids dynamo.RefIDs
	for _, n := range ns {
		ids.Tasks = append(ids.Tasks, n.TaskID)
		ids.Tickets = append(ids.Tickets, n.TicketID)
		if related {
			ids.Users = append(ids.Users, n.UserID)
		} else {
			ids.Users = append(ids.Users, n.ActorID)
		}
	}
	refs, err := s.Store.GetRefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]notificationView, len(ns))
	for i, n := range ns {
		v := notificationView{Notification: n, RelatedUserID: n.ActorID}
		if t := refs.Task(n.TaskID); t != nil && r.Principal.CanReadTask(t) {
			v.Task = &workRef{ID: t.ID, Title: t.Title, Status: string(t.Status)}
		}
		if t := refs.Ticket(n.TicketID); t != nil && r.Principal.CanReadTicket(t) {
			v.Ticket = &workRef{ID: t.ID, Key: t.Key, Title: t.Title, Status: string(t.Status)}
		}
		if related {
			v.Recipient = refUser(refs, n.UserID)
		} else {
			v.RelatedUser = refUser(refs, n.ActorID)
		}
		out[i] = v
	}
	return out, nil
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
	views, err := s.viewNotifications(ctx, r, page.Items, false)
	if err != nil {
		return nil, err
	}
	return httpapi.List(views, page.NextCursor), nil
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
	views, err := s.viewNotifications(ctx, r, page.Items, true)
	if err != nil {
		return nil, err
	}
	return httpapi.List(views, page.NextCursor), nil
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
