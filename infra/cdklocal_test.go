package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deskline/deskline/infra/stack"
)

// TestCdklocalSynth runs `cdklocal synth` the way `make deploy-local` runs
// cdklocal (the CDK CLI pointed at LocalStack), with dummy assets, so the
// LocalStack path stays working on machines without Docker. It needs the
// CLI that `make cdk-cli` installs: `make infra-test` passes its path in
// DESKLINE_CDKLOCAL; a bare `go test` skips it.
func TestCdklocalSynth(t *testing.T) {
	cdklocal := os.Getenv("DESKLINE_CDKLOCAL")
	if cdklocal == "" {
		t.Skip("DESKLINE_CDKLOCAL is not set (make infra-test sets it)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	assets, out := t.TempDir(), t.TempDir()
	for _, n := range stack.FromRoutes().Names() {
		if err := os.MkdirAll(filepath.Join(assets, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(assets, n, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(cdklocal, "synth", "--no-notices", "--quiet", "-c", "assetDir="+assets, "-o", out)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"CDK_DISABLE_CLI_TELEMETRY=true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"CDK_HOME="+t.TempDir(),
		"PATH="+filepath.Dir(cdklocal)+string(os.PathListSeparator)+os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdklocal synth: %v\n%s", err, b)
	}
	tmpl, err := os.ReadFile(filepath.Join(out, "Deskline-dev.template.json"))
	if err != nil {
		t.Fatalf("no template: %v\n%s", err, b)
	}
	var doc struct {
		Resources map[string]struct{ Type string }
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, r := range doc.Resources {
		types[r.Type]++
	}
	for _, want := range []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::ApiGatewayV2::Api", "AWS::CloudFormation::Stack", "AWS::Lambda::Function"} {
		if types[want] == 0 {
			t.Errorf("cdklocal template has no %s", want)
		}
	}
	if strings.Contains(string(tmpl), "AWS::DynamoDB::GlobalTable") {
		t.Error("the template uses AWS::DynamoDB::GlobalTable (TableV2); LocalStack 4.14 is only known to take AWS::DynamoDB::Table")
	}
}
