package api

import (
	"context"
	"net/http"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

var errRecipient = &deskline.Error{Code: deskline.EINVALID, Field: "to", Message: "You cannot message this user"}

// Send sends a direct message from the caller: it is the one path for REST
// and WebSocket sends. The recipient must be approved and within reach
// (deskline.Principal.CanMessage).
func (s *Server) Send(ctx context.Context, p *deskline.Principal, to, body string, rec *dynamo.Idem) (*httpapi.Response, error) {
	body, err := deskline.NormalizeMessageBody(body)
	if err != nil {
		return nil, err
	}
	if !deskline.ValidID(deskline.PrefixUser, to) {
		return nil, errRecipient
	}
	u, err := s.Store.GetUser(ctx, to)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return nil, errRecipient
	} else if err != nil {
		return nil, err
	}
	if !p.CanMessage(u) {
		return nil, errRecipient
	}
	m := &deskline.Message{ID: s.IDs.NewID(deskline.PrefixMessage), FromUserID: p.UserID, ToUserID: to, Body: body, CreatedAt: s.Clock.Now()}
	resp := httpapi.JSON(http.StatusCreated, m)
	if err := render(rec, resp); err != nil {
		return nil, err
	}
	if err := s.Store.SendMessage(ctx, m, rec); err != nil {
		return nil, err
	}
	return resp, nil
}

type messageRequest struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

// SendMessage sends a direct message.
func (s *Server) SendMessage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in messageRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	return s.idempotent(ctx, r, func(rec *dynamo.Idem) (*httpapi.Response, error) {
		return s.Send(ctx, r.Principal, in.To, in.Body, rec)
	})
}

// conversationView is a conversation with the peer's name.
type conversationView struct {
	*dynamo.Conversation
	Peer *personRef `json:"peer"`
}

// ListConversations lists the caller's conversations, most recent first,
// with the last message and the unread count.
func (s *Server) ListConversations(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListConversations(ctx, r.Principal.UserID, pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range page.Items {
		ids = append(ids, c.PeerID)
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	views := make([]conversationView, len(page.Items))
	for i, c := range page.Items {
		views[i] = conversationView{Conversation: c, Peer: refUser(people, c.PeerID)}
	}
	return httpapi.List(views, page.NextCursor), nil
}

// ListMessages lists the messages between the caller and another user,
// newest first.
func (s *Server) ListMessages(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	peer := r.Param("userId")
	if !deskline.ValidID(deskline.PrefixUser, peer) {
		return nil, errUserNotFound
	}
	page, err := s.Store.ListMessages(ctx, r.Principal.UserID, peer, pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.List(page.Items, page.NextCursor), nil
}

// MarkConversationRead sets the caller's unread count with a user to zero.
func (s *Server) MarkConversationRead(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	peer := r.Param("userId")
	if !deskline.ValidID(deskline.PrefixUser, peer) {
		return nil, errUserNotFound
	}
	if err := s.Store.MarkConversationRead(ctx, r.Principal.UserID, peer); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Conversation marked as read"), nil
}
