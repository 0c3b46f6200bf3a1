package s3local

// PID returns the server's process id (for tests).
func PID(s *Server) int { return s.cmd.Process.Pid }
