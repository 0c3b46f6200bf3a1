package stack_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCdklocalSynth hands the cloud assembly TestMain synthesized (what
// `cdk synth` writes for cdk.json's context) to cdklocal, the CDK CLI that
// `make deploy-local` points at LocalStack: the pinned CLI must accept this
// library's assembly schema, so the LocalStack path stays working on
// machines without Docker. It needs the CLI that `make cdk-cli` installs:
// `make infra-test` passes its path in DESKLINE_CDKLOCAL; a bare `go test`
// skips it.
func TestCdklocalSynth(t *testing.T) {
	cdklocal := os.Getenv("DESKLINE_CDKLOCAL")
	if cdklocal == "" {
		t.Skip("DESKLINE_CDKLOCAL is not set (make infra-test sets it)")
	}
	t.Parallel()
	cmd := exec.Command(cdklocal, "synth", "--no-notices", "--app", assembly, "--quiet")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"CDK_DISABLE_CLI_TELEMETRY=true", "CDK_DISABLE_VERSION_CHECK=true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"CDK_HOME="+t.TempDir(),
		"PATH="+filepath.Dir(cdklocal)+string(os.PathListSeparator)+os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdklocal synth: %v\n%s", err, b)
	}
	tmpl, err := os.ReadFile(filepath.Join(assembly, "Deskline-dev.template.json"))
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
