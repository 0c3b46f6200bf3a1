package deskline

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf8"
)

// Id prefixes of real-time entities.
const (
	PrefixNotification = "NOT"
	PrefixMessage      = "MSG"
)

// NotificationType says what happened.
type NotificationType string

// Notification types.
const (
	NotifyTaskAssigned        NotificationType = "task_assigned"
	NotifyTaskUpdated         NotificationType = "task_updated"
	NotifyTaskCompleted       NotificationType = "task_completed"
	NotifyCommentAdded        NotificationType = "comment_added"
	NotifyTicketStatusChanged NotificationType = "ticket_status_changed"
	NotifyNewTicket           NotificationType = "new_ticket"
	// NotifyTicketAssigned is not in the original clients' list: an
	// existing ticket given to someone should tell them.
	NotifyTicketAssigned  NotificationType = "ticket_assigned"
	NotifyMessageReceived NotificationType = "message_received"
)

// NotificationTypes lists every notification type.
var NotificationTypes = []NotificationType{
	NotifyTaskAssigned, NotifyTaskUpdated, NotifyTaskCompleted, NotifyCommentAdded,
	NotifyTicketStatusChanged, NotifyNewTicket, NotifyTicketAssigned, NotifyMessageReceived,
}

// Notification tells one user about a change someone else made.
type Notification struct {
	ID        string           `json:"id"`
	UserID    string           `json:"userId"`
	Type      NotificationType `json:"type"`
	Message   string           `json:"message"`
	TicketID  string           `json:"ticketId,omitempty"`
	TaskID    string           `json:"taskId,omitempty"`
	MessageID string           `json:"messageId,omitempty"`
	ActorID   string           `json:"actorId"`
	IsRead    bool             `json:"isRead"`
	CreatedAt time.Time        `json:"createdAt"`
}

// NotificationID derives a notification's id from the change that caused it
// and its recipient: the same change never notifies the same person twice,
// however often it is replayed, and ids sort by the change's time.
func NotificationID(changeID, recipient string, at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	sum := sha256.Sum256([]byte(changeID + "\x00" + recipient))
	copy(b[6:], sum[:10])
	return PrefixNotification + "-" + idEncoding.EncodeToString(b[:])
}

// Message is a direct message between two users.
type Message struct {
	ID         string    `json:"id"`
	FromUserID string    `json:"fromUserId"`
	ToUserID   string    `json:"toUserId"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"createdAt"`
}

// NormalizeMessageBody trims and checks a message (1–2000 characters).
func NormalizeMessageBody(body string) (string, error) {
	body = strings.TrimSpace(body)
	n := utf8.RuneCountInString(body)
	switch {
	case n == 0:
		return "", Invalid("body", "Message body is required")
	case n > 2000:
		return "", Invalid("body", "Message must be at most 2000 characters")
	}
	return body, nil
}

// CanMessage reports whether the caller may message user to: admins and
// heads anyone; employees the people of their own department and admins.
// Only approved users receive messages.
func (p *Principal) CanMessage(to *User) bool {
	if to == nil || to.Status != StatusApproved || to.ID == p.UserID {
		return false
	}
	return p.Role != RoleEmployee || to.Role == RoleAdmin || p.InDepartment(to.DepartmentID)
}
