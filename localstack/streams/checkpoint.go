package streams

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// position is where one consumer stands in one shard.
type position struct {
	// SequenceNumber is the last record handled (delivered, filtered out or
	// sent to the destination); "" means none yet (start at TRIM_HORIZON).
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// Finished says the shard is closed and every record of it handled, so
	// its children may start.
	Finished bool `json:"finished,omitempty"`
}

// checkpointFile is the JSON checkpoint file.
type checkpointFile struct {
	Version   int                            `json:"version"`
	StreamARN string                         `json:"streamArn"`
	UpdatedAt time.Time                      `json:"updatedAt"`
	Consumers map[string]map[string]position `json:"consumers"` // consumer -> shard -> position
}

const checkpointVersion = 1

// checkpoints holds every consumer's positions, in memory and, when a file
// is given, on disk (rewritten atomically on every change).
type checkpoints struct {
	file string

	mu        sync.Mutex
	streamARN string
	pos       map[string]map[string]position
}

func newCheckpoints(file string) *checkpoints {
	return &checkpoints{file: file, pos: map[string]map[string]position{}}
}

// load reads the file, if there is one. A missing file is an empty
// checkpoint.
func (c *checkpoints) load() error {
	if c.file == "" {
		return nil
	}
	b, err := os.ReadFile(c.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read checkpoint file: %w", err)
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("checkpoint file %s is not valid JSON: %w", c.file, err)
	}
	if f.Version != checkpointVersion {
		return fmt.Errorf("checkpoint file %s has version %d, want %d", c.file, f.Version, checkpointVersion)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streamARN = f.StreamARN
	c.pos = f.Consumers
	if c.pos == nil {
		c.pos = map[string]map[string]position{}
	}
	return nil
}

// bind ties the checkpoints to a stream. Positions recorded for another
// stream (the table was deleted and created again) mean nothing for this one
// and are dropped; it reports whether that happened.
func (c *checkpoints) bind(streamARN string) (dropped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streamARN == streamARN {
		return false
	}
	dropped = c.streamARN != "" && len(c.pos) > 0
	c.streamARN = streamARN
	c.pos = map[string]map[string]position{}
	return dropped
}

func (c *checkpoints) get(consumer, shard string) position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[consumer][shard]
}

// set records a position and writes the file.
func (c *checkpoints) set(consumer, shard string, p position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pos[consumer] == nil {
		c.pos[consumer] = map[string]position{}
	}
	if c.pos[consumer][shard] == p {
		return nil
	}
	c.pos[consumer][shard] = p
	return c.writeLocked()
}

// prune forgets shards the stream no longer has (trimmed after 24 hours).
func (c *checkpoints) prune(live map[string]bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	for _, shards := range c.pos {
		for id := range shards {
			if !live[id] {
				delete(shards, id)
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	return c.writeLocked()
}

// writeLocked replaces the file atomically: a temporary file in the same
// directory, synced, then renamed over it.
func (c *checkpoints) writeLocked() error {
	if c.file == "" {
		return nil
	}
	b, err := json.MarshalIndent(checkpointFile{
		Version: checkpointVersion, StreamARN: c.streamARN, UpdatedAt: time.Now().UTC(), Consumers: c.pos,
	}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(c.file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}
