package cloud

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/deskline/deskline/shared/routes"
)

// startSchedules invokes every scheduled task of the route table at its
// rate, as EventBridge rules do in AWS, with a scheduled event's "time".
func (c *Cloud) startSchedules(log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopSchedules = cancel
	for _, f := range routes.Functions {
		if f.Schedule == "" {
			continue
		}
		every, err := routes.ScheduleRate(f.Schedule)
		if err != nil {
			return err
		}
		h, err := c.App.TaskHandler(f.Name)
		if err != nil {
			return err
		}
		c.scheduled.Add(1)
		go func() {
			defer c.scheduled.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				payload, _ := json.Marshal(map[string]any{"source": "aws.events", "detail-type": "Scheduled Event", "time": c.App.Server.Clock.Now().UTC().Format(time.RFC3339)})
				if out, err := h(ctx, payload); err != nil {
					log.Error("scheduled task failed", slog.String("function", f.Name), slog.String("error", err.Error()))
				} else {
					log.Debug("scheduled task ran", slog.String("function", f.Name), slog.Any("result", out))
				}
			}
		}()
	}
	return nil
}
