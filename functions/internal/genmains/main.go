// Command genmains writes functions/<name>/main.go for every HTTP route in
// the route table that has none yet, so adding an endpoint is one row, one
// handler and `make gen`. It never overwrites an existing main.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/deskline/deskline/shared/routes"
)

const tmpl = `// Command %s is the Lambda behind %s %s.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP(%q)) }
`

func main() {
	root := "functions"
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	for _, r := range routes.HTTP {
		path := filepath.Join(root, r.Name, "main.go")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(fmt.Sprintf(tmpl, r.Name, r.Method, r.Path, r.Name)), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println("wrote", path)
	}
}
