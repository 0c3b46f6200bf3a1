// Package mail sends Deskline's e-mail: through SES (sesv2) in AWS, or into
// an outbox in the table in the local and test stages, where tests and
// developers read it.
package mail

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// SESAPI is the part of the SES client the mailer uses.
type SESAPI interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends mail through Amazon SES.
type SES struct {
	Client SESAPI
	From   string
}

// Send sends a plain-text message.
func (m *SES) Send(ctx context.Context, to, subject, body string) error {
	_, err := m.Client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(body), Charset: aws.String("UTF-8")}},
		}},
	})
	if err != nil {
		return fmt.Errorf("ses send to recipient: %w", err)
	}
	return nil
}

// Outbox keeps mail in the table instead of sending it.
type Outbox struct {
	Store *dynamo.Store
	Clock deskline.Clock
	IDs   deskline.IDGenerator
}

// Send stores the message in the recipient's outbox.
func (m *Outbox) Send(ctx context.Context, to, subject, body string) error {
	return m.Store.PutMail(ctx, dynamo.Mail{ID: m.IDs.NewID("MAIL"), To: to, Subject: subject, Body: body, SentAt: m.Clock.Now()})
}
