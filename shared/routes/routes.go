// Package routes is the route table: the single source of truth for every
// endpoint. The functions/ folders, the local gateway's router, the CDK
// stack, the OpenAPI document and the authorization tests all derive from it.
package routes

import (
	"slices"

	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/notifier"
	"github.com/deskline/deskline/shared/projector"
)

// Route is one HTTP API endpoint, served by one Lambda function.
type Route struct {
	Name    string // the function's name: functions/<Name>
	Method  string
	Path    string // API Gateway syntax: /api/users/{id}
	Access  httpapi.Access
	Summary string
	Handler func(*api.Server) httpapi.Handler
	// Needs lists what the function uses beyond the table, for least
	// privilege. GET routes only read the table; other methods read and write.
	Needs []Need
}

// Need is a permission a function needs beyond its table access.
type Need string

// Needs.
const (
	NeedSendMail Need = "ses:send"       // SES SendEmail
	NeedObjects  Need = "s3:objects"     // read, write, delete attachment objects
	NeedPostWS   Need = "ws:connections" // API Gateway ManageConnections
	NeedTokens   Need = "jwt:secret"     // issues or verifies session tokens: reads the JWT secret
)

// ReadOnly reports whether the route only reads the table.
func (r Route) ReadOnly() bool { return r.Method == "GET" }

var (
	admin    = httpapi.Only(deskline.RoleAdmin)
	triagers = httpapi.Only(deskline.RoleAdmin, deskline.RoleDepartmentHead)
	anyone   = httpapi.Anyone
	open     = httpapi.Public
)

// HTTP lists every HTTP API route.
var HTTP = []Route{
	{"health", "GET", "/api/health", open, "Liveness check", func(s *api.Server) httpapi.Handler { return s.Health }, nil},
	{"openapi", "GET", "/api/openapi.json", open, "This API's OpenAPI 3.1 document", func(s *api.Server) httpapi.Handler { return OpenAPIHandler }, nil},

	{"auth-register", "POST", "/api/auth/register", open, "Register an account (pending until approved)", func(s *api.Server) httpapi.Handler { return s.Register }, nil},
	{"auth-login", "POST", "/api/auth/login", open, "Log in and open a session", func(s *api.Server) httpapi.Handler { return s.Login }, []Need{NeedTokens}},
	{"auth-logout", "POST", "/api/auth/logout", anyone, "End the current session", func(s *api.Server) httpapi.Handler { return s.Logout }, nil},
	{"auth-me", "GET", "/api/auth/me", anyone, "The caller's account", func(s *api.Server) httpapi.Handler { return s.Me }, nil},
	{"auth-profile", "GET", "/api/auth/profile", anyone, "The caller's account (FEATURES.md's path)", func(s *api.Server) httpapi.Handler { return s.Me }, nil},
	{"auth-forgot-password", "POST", "/api/auth/forgot-password", open, "Mail a password reset token", func(s *api.Server) httpapi.Handler { return s.ForgotPassword }, []Need{NeedSendMail}},
	{"auth-reset-password", "POST", "/api/auth/reset-password", open, "Set a new password with a reset token", func(s *api.Server) httpapi.Handler { return s.ResetPassword }, nil},
	{"auth-verify-reset-token", "GET", "/api/auth/verify-reset-token/{token}", open, "Check a reset token", func(s *api.Server) httpapi.Handler { return s.VerifyResetToken }, nil},

	{"users-list", "GET", "/api/users", admin, "List users", func(s *api.Server) httpapi.Handler { return s.ListUsers }, nil},
	{"users-profile", "GET", "/api/users/profile", anyone, "The caller's account", func(s *api.Server) httpapi.Handler { return s.Me }, nil},
	{"users-create", "POST", "/api/users", admin, "Create a user", func(s *api.Server) httpapi.Handler { return s.CreateUser }, nil},
	{"users-get", "GET", "/api/users/{id}", anyone, "Get a user (admins, self, same department)", func(s *api.Server) httpapi.Handler { return s.GetUser }, nil},
	{"users-update", "PUT", "/api/users/{id}", anyone, "Update a user (self or admin)", func(s *api.Server) httpapi.Handler { return s.UpdateUser }, nil},
	{"users-delete", "DELETE", "/api/users/{id}", admin, "Delete a user", func(s *api.Server) httpapi.Handler { return s.DeleteUser }, nil},
	{"users-approve", "PATCH", "/api/users/{id}/approve", admin, "Approve a user", func(s *api.Server) httpapi.Handler { return s.ApproveUser }, nil},
	{"users-reject", "PATCH", "/api/users/{id}/reject", admin, "Reject a user", func(s *api.Server) httpapi.Handler { return s.RejectUser }, nil},

	{"departments-create", "POST", "/api/departments", admin, "Create a department", func(s *api.Server) httpapi.Handler { return s.CreateDepartment }, nil},
	{"departments-list", "GET", "/api/departments", anyone, "List departments", func(s *api.Server) httpapi.Handler { return s.ListDepartments }, nil},
	{"departments-get", "GET", "/api/departments/{id}", anyone, "Get a department", func(s *api.Server) httpapi.Handler { return s.GetDepartment }, nil},
	{"departments-update", "PUT", "/api/departments/{id}", admin, "Update a department", func(s *api.Server) httpapi.Handler { return s.UpdateDepartment }, nil},
	{"departments-delete", "DELETE", "/api/departments/{id}", admin, "Delete a department without members", func(s *api.Server) httpapi.Handler { return s.DeleteDepartment }, nil},

	{"tickets-create", "POST", "/api/tickets", anyone, "Open a ticket", func(s *api.Server) httpapi.Handler { return s.CreateTicket }, nil},
	{"tickets-list", "GET", "/api/tickets", anyone, "List, filter and search tickets", func(s *api.Server) httpapi.Handler { return s.ListTickets }, nil},
	{"tickets-stats", "GET", "/api/tickets/stats", triagers, "Count tickets by status and priority", func(s *api.Server) httpapi.Handler { return s.TicketStats }, nil},
	{"tickets-get", "GET", "/api/tickets/{id}", anyone, "Get a ticket by id or key, with comments", func(s *api.Server) httpapi.Handler { return s.GetTicket }, nil},
	{"tickets-update", "PUT", "/api/tickets/{id}", anyone, "Update a ticket", func(s *api.Server) httpapi.Handler { return s.UpdateTicket }, nil},
	{"tickets-delete", "DELETE", "/api/tickets/{id}", admin, "Delete a ticket and everything on it", func(s *api.Server) httpapi.Handler { return s.DeleteTicket }, nil},
	{"tickets-history", "GET", "/api/tickets/{id}/history", anyone, "A ticket's change history", func(s *api.Server) httpapi.Handler { return s.TicketHistory }, nil},
	{"tickets-comments-list", "GET", "/api/tickets/{id}/comments", anyone, "A ticket's comments", func(s *api.Server) httpapi.Handler { return s.ListTicketComments }, nil},
	{"tickets-comments-create", "POST", "/api/tickets/{id}/comments", anyone, "Comment on a ticket", func(s *api.Server) httpapi.Handler { return s.CreateTicketComment }, nil},

	{"tasks-create", "POST", "/api/tasks", triagers, "Create a task", func(s *api.Server) httpapi.Handler { return s.CreateTask }, nil},
	{"tasks-list", "GET", "/api/tasks", anyone, "List tasks", func(s *api.Server) httpapi.Handler { return s.ListTasks }, nil},
	{"tasks-get", "GET", "/api/tasks/{id}", anyone, "Get a task", func(s *api.Server) httpapi.Handler { return s.GetTask }, nil},
	{"tasks-update", "PUT", "/api/tasks/{id}", anyone, "Update a task", func(s *api.Server) httpapi.Handler { return s.UpdateTask }, nil},
	{"tasks-delete", "DELETE", "/api/tasks/{id}", admin, "Delete a task and everything on it", func(s *api.Server) httpapi.Handler { return s.DeleteTask }, nil},
	{"tasks-history", "GET", "/api/tasks/{id}/history", anyone, "A task's change history", func(s *api.Server) httpapi.Handler { return s.TaskHistory }, nil},
	{"tasks-dependencies-add", "POST", "/api/tasks/{id}/dependencies", triagers, "Make a task depend on another", func(s *api.Server) httpapi.Handler { return s.AddDependency }, nil},
	{"tasks-dependencies-remove", "DELETE", "/api/tasks/{id}/dependencies/{dependsOnId}", triagers, "Remove a dependency", func(s *api.Server) httpapi.Handler { return s.RemoveDependency }, nil},

	{"comments-create", "POST", "/api/comments", anyone, "Comment on a task (or a ticket)", func(s *api.Server) httpapi.Handler { return s.CreateComment }, nil},
	{"comments-list-task", "GET", "/api/comments/task/{taskId}", anyone, "A task's comments", func(s *api.Server) httpapi.Handler { return s.ListTaskComments }, nil},
	{"comments-update", "PUT", "/api/comments/{id}", anyone, "Edit a comment (author)", func(s *api.Server) httpapi.Handler { return s.UpdateComment }, nil},
	{"comments-delete", "DELETE", "/api/comments/{id}", anyone, "Delete a comment (author or admin)", func(s *api.Server) httpapi.Handler { return s.DeleteComment }, nil},

	{"notifications-list", "GET", "/api/notifications", anyone, "The caller's notifications", func(s *api.Server) httpapi.Handler { return s.ListNotifications }, nil},
	{"notifications-related", "GET", "/api/notifications/related", anyone, "Notifications about what the caller did", func(s *api.Server) httpapi.Handler { return s.ListRelatedNotifications }, nil},
	{"notifications-unread-count", "GET", "/api/notifications/unread/count", anyone, "Count of unread notifications", func(s *api.Server) httpapi.Handler { return s.UnreadCount }, nil},
	{"notifications-read", "PUT", "/api/notifications/{id}/read", anyone, "Mark a notification read", func(s *api.Server) httpapi.Handler { return s.MarkNotificationRead }, nil},
	{"notifications-read-all", "PUT", "/api/notifications/read-all", anyone, "Mark all notifications read", func(s *api.Server) httpapi.Handler { return s.MarkAllNotificationsRead }, nil},

	{"messages-send", "POST", "/api/messages", anyone, "Send a direct message", func(s *api.Server) httpapi.Handler { return s.SendMessage }, nil},
	{"messages-conversations", "GET", "/api/messages", anyone, "The caller's conversations", func(s *api.Server) httpapi.Handler { return s.ListConversations }, nil},
	{"messages-history", "GET", "/api/messages/{userId}", anyone, "Messages with one user", func(s *api.Server) httpapi.Handler { return s.ListMessages }, nil},
	{"messages-read", "PUT", "/api/messages/{userId}/read", anyone, "Mark a conversation read", func(s *api.Server) httpapi.Handler { return s.MarkConversationRead }, nil},

	{"analytics-tickets", "GET", "/api/analytics/tickets", triagers, "Ticket statistics and distributions of a date range", func(s *api.Server) httpapi.Handler { return s.TicketAnalytics }, nil},
	{"analytics-department-metrics", "GET", "/api/analytics/department/{id}/metrics", triagers, "A department's metrics, one row per day", func(s *api.Server) httpapi.Handler { return s.DepartmentMetrics }, nil},
	{"analytics-department-metrics-export", "GET", "/api/analytics/department/{id}/metrics/export", triagers, "A department's metrics as CSV", func(s *api.Server) httpapi.Handler { return s.ExportDepartmentMetrics }, nil},
	{"analytics-department-analytics", "GET", "/api/analytics/department/{id}/analytics", triagers, "Every statistic of a department, one row per day", func(s *api.Server) httpapi.Handler { return s.DepartmentAnalytics }, nil},
	{"analytics-department-trends", "GET", "/api/analytics/department/{id}/trends", triagers, "A department's trends by day, week or month", func(s *api.Server) httpapi.Handler { return s.DepartmentTrends }, nil},
	{"analytics-user-performance", "GET", "/api/analytics/user/{id}/performance", anyone, "A user's performance, one row per day", func(s *api.Server) httpapi.Handler { return s.UserPerformance }, nil},
	{"analytics-user-performance-export", "GET", "/api/analytics/user/{id}/performance/export", anyone, "A user's performance as CSV", func(s *api.Server) httpapi.Handler { return s.ExportUserPerformance }, nil},
	{"analytics-user-activity", "GET", "/api/analytics/user/{id}/activity", anyone, "A user's activity log", func(s *api.Server) httpapi.Handler { return s.UserActivity }, nil},
	{"analytics-task-distribution", "GET", "/api/analytics/dashboard/task-distribution", triagers, "Tasks by status and priority", func(s *api.Server) httpapi.Handler { return s.TaskDistribution }, nil},
	{"analytics-performance-trends", "GET", "/api/analytics/dashboard/performance-trends", triagers, "Completion, resolution and productivity by period", func(s *api.Server) httpapi.Handler { return s.PerformanceTrends }, nil},
	{"analytics-priority-metrics", "GET", "/api/analytics/dashboard/priority-metrics", triagers, "Task and ticket metrics per priority", func(s *api.Server) httpapi.Handler { return s.PriorityMetrics }, nil},
	{"analytics-department-comparison", "GET", "/api/analytics/dashboard/department-comparison", admin, "Every department side by side", func(s *api.Server) httpapi.Handler { return s.DepartmentComparison }, nil},
	{"analytics-dashboard-department-trends", "GET", "/api/analytics/dashboard/department/{id}/trends", triagers, "A department's metrics, the range's first half against its second", func(s *api.Server) httpapi.Handler { return s.DepartmentDashboardTrends }, nil},
	{"analytics-forecast-task-completion", "GET", "/api/analytics/dashboard/department/{id}/forecast/task-completion", triagers, "Tasks a department will complete in the 7 days after the range", func(s *api.Server) httpapi.Handler { return s.DepartmentTaskCompletionForecast }, nil},
	{"analytics-forecast-productivity", "GET", "/api/analytics/dashboard/user/{id}/forecast/productivity", triagers, "A user's productivity score in the 7 days after the range", func(s *api.Server) httpapi.Handler { return s.UserProductivityForecast }, nil},
	{"analytics-forecast-workload", "GET", "/api/analytics/dashboard/department/{id}/forecast/workload", triagers, "Tasks a department will get in the 7 days after the range", func(s *api.Server) httpapi.Handler { return s.DepartmentWorkloadForecast }, nil},
	{"analytics-anomalies-department", "GET", "/api/analytics/dashboard/department/{id}/anomalies", triagers, "Days on which a department's counts stood out", func(s *api.Server) httpapi.Handler { return s.DepartmentAnomalies }, nil},
	{"analytics-anomalies-user", "GET", "/api/analytics/dashboard/user/{id}/anomalies", triagers, "Days on which a user's counts stood out", func(s *api.Server) httpapi.Handler { return s.UserAnomalies }, nil},
	{"analytics-live-department-metrics", "GET", "/api/analytics/dashboard/live/department-metrics", admin, "Every department's tasks by current status", func(s *api.Server) httpapi.Handler { return s.LiveDepartmentMetrics }, nil},
	{"analytics-live-task-status", "GET", "/api/analytics/dashboard/live/task-status", admin, "The 50 most recently changed tasks with their people", func(s *api.Server) httpapi.Handler { return s.LiveTaskStatus }, nil},
	{"analytics-dashboard-user-activity", "GET", "/api/analytics/dashboard/user-activity", triagers, "Activity on a department's (or every) ticket and task, newest first", func(s *api.Server) httpapi.Handler { return s.DashboardUserActivity }, nil},
	{"analytics-live-user-activity", "GET", "/api/analytics/dashboard/live/user-activity", admin, "The help desk's latest 50 activity entries", func(s *api.Server) httpapi.Handler { return s.LiveUserActivity }, nil},
	{"analytics-update-metrics", "POST", "/api/analytics/update-metrics", admin, "Accepted for the contract: metrics are always current, nothing to update", func(s *api.Server) httpapi.Handler { return s.UpdateMetrics }, nil},
	{"analytics-reports-create", "POST", "/api/analytics/reports", admin, "Save a report", func(s *api.Server) httpapi.Handler { return s.CreateReport }, nil},
	{"analytics-reports-list", "GET", "/api/analytics/reports", admin, "List saved reports", func(s *api.Server) httpapi.Handler { return s.ListReports }, nil},
	{"analytics-reports-get", "GET", "/api/analytics/reports/{id}", admin, "A saved report with its data", func(s *api.Server) httpapi.Handler { return s.GetReport }, nil},
	{"analytics-reports-update", "PUT", "/api/analytics/reports/{id}", admin, "Change a saved report", func(s *api.Server) httpapi.Handler { return s.UpdateReport }, nil},
	{"analytics-reports-delete", "DELETE", "/api/analytics/reports/{id}", admin, "Delete a saved report", func(s *api.Server) httpapi.Handler { return s.DeleteReport }, nil},
	{"analytics-reports-export", "GET", "/api/analytics/reports/{id}/export", admin, "A saved report's data as CSV", func(s *api.Server) httpapi.Handler { return s.ExportReport }, nil},
	{"analytics-reports-schedule", "PUT", "/api/analytics/reports/{id}/schedule", admin, "Set a saved report's mailing schedule", func(s *api.Server) httpapi.Handler { return s.ScheduleReport }, nil},
	{"files-upload-ticket", "POST", "/api/files/ticket/{ticketId}", anyone, "Attach a file to a ticket: returns a presigned S3 upload", func(s *api.Server) httpapi.Handler { return s.UploadTicketFile }, []Need{NeedObjects}},
	{"files-upload-task", "POST", "/api/files/task/{taskId}", anyone, "Attach a file to a task: returns a presigned S3 upload", func(s *api.Server) httpapi.Handler { return s.UploadTaskFile }, []Need{NeedObjects}},
	{"files-upload-comment", "POST", "/api/files/comment/{commentId}", anyone, "Attach a file to a comment: returns a presigned S3 upload", func(s *api.Server) httpapi.Handler { return s.UploadCommentFile }, []Need{NeedObjects}},
	{"files-list-ticket", "GET", "/api/files/ticket/{ticketId}", anyone, "A ticket's files", func(s *api.Server) httpapi.Handler { return s.ListTicketFiles }, nil},
	{"files-list-task", "GET", "/api/files/task/{taskId}", anyone, "A task's files", func(s *api.Server) httpapi.Handler { return s.ListTaskFiles }, nil},
	{"files-list-comment", "GET", "/api/files/comment/{commentId}", anyone, "A comment's files", func(s *api.Server) httpapi.Handler { return s.ListCommentFiles }, nil},
	{"files-get", "GET", "/api/files/{id}", anyone, "A file's metadata and status", func(s *api.Server) httpapi.Handler { return s.GetFile }, nil},
	{"files-download", "GET", "/api/files/{id}/download", anyone, "Download a file: redirects to a presigned S3 GET (5 minutes)", func(s *api.Server) httpapi.Handler { return s.DownloadFile }, []Need{NeedObjects}},
	{"files-delete", "DELETE", "/api/files/{id}", anyone, "Delete a file (uploader or admin)", func(s *api.Server) httpapi.Handler { return s.DeleteFile }, []Need{NeedObjects}},
}

// Kinds of functions that are not HTTP routes.
const (
	KindAuthorizer = "authorizer" // the Lambda authorizer of both APIs
	KindWebSocket  = "websocket"  // a WebSocket API route ($connect, $disconnect, $default)
	KindStream     = "stream"     // a DynamoDB Streams consumer of the table
	KindS3         = "s3"         // invoked by S3 ObjectCreated events
	KindTask       = "task"       // invoked by hand or by a command (setup, rebuilds)
)

// Function is a Lambda function that is not an HTTP route.
type Function struct {
	Name string
	Kind string
	// RouteKey is a WebSocket function's route key.
	RouteKey string
	// ItemTypes are the item types a stream consumer handles: its event
	// source mapping filters on them.
	ItemTypes []string
	// Writes reports whether the function writes to the table.
	Writes bool
	Needs  []Need
	// Schedule, for a task, is the EventBridge schedule that invokes it
	// ("rate(5 minutes)"); the local cloud runs it on the same rate.
	Schedule string
}

// Functions lists the Lambda functions that are not HTTP routes.
var Functions = []Function{
	{Name: "authorizer", Kind: KindAuthorizer, Writes: false, Needs: []Need{NeedTokens}},
	{Name: "stream-projector", Kind: KindStream, ItemTypes: projector.ItemTypes, Writes: true, Needs: []Need{NeedObjects}},
	{Name: "stream-notifier", Kind: KindStream, ItemTypes: notifier.ItemTypes, Writes: true, Needs: []Need{NeedPostWS, NeedSendMail}},
	{Name: "ws-connect", Kind: KindWebSocket, RouteKey: "$connect", Writes: true},
	{Name: "ws-disconnect", Kind: KindWebSocket, RouteKey: "$disconnect", Writes: true},
	{Name: "ws-default", Kind: KindWebSocket, RouteKey: "$default", Writes: true},
	{Name: "analytics-rebuild", Kind: KindTask, Writes: true},
	{Name: "reports-mailer", Kind: KindTask, Writes: true, Needs: []Need{NeedSendMail}, Schedule: "rate(5 minutes)"},
	{Name: "upload-validator", Kind: KindS3, Writes: true, Needs: []Need{NeedObjects}},
}

// Names returns every function's name: the HTTP routes', then the others'.
func Names() []string {
	var names []string
	for _, r := range HTTP {
		names = append(names, r.Name)
	}
	for _, f := range Functions {
		names = append(names, f.Name)
	}
	return names
}

// ByName returns the HTTP route with the given function name.
func ByName(name string) (Route, bool) {
	for _, r := range HTTP {
		if r.Name == name {
			return r, true
		}
	}
	return Route{}, false
}

// NeedsTokens reports whether the named function issues or verifies session
// tokens, and so needs the JWT secret.
func NeedsTokens(name string) bool {
	if r, ok := ByName(name); ok {
		return slices.Contains(r.Needs, NeedTokens)
	}
	for _, f := range Functions {
		if f.Name == name {
			return slices.Contains(f.Needs, NeedTokens)
		}
	}
	return false
}
