package routes_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/deskline/deskline/shared/routes"
)

// functionsDir is the repository's functions/ folder, one directory per Lambda.
const functionsDir = "../../functions"

// bootCalls returns the calls boot.<Fn>(...) in a parsed main.go, with their
// string-literal arguments.
func bootCalls(t *testing.T, f *ast.File) map[string][][]string {
	t.Helper()
	calls := map[string][][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "boot" {
			return true
		}
		var args []string
		for _, a := range call.Args {
			lit, ok := a.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				args = append(args, "<not a string literal>")
				continue
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("unquote %s: %v", lit.Value, err)
			}
			args = append(args, s)
		}
		calls[sel.Sel.Name] = append(calls[sel.Sel.Name], args)
		return true
	})
	return calls
}

// stringLiterals returns every string literal in a parsed file.
func stringLiterals(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// TestFunctionsMatchRouteTable proves that functions/ and the route table
// match one to one, and that every main wires up its own function.
func TestFunctionsMatchRouteTable(t *testing.T) {
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		t.Fatalf("read %s: %v", functionsDir, err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "internal" {
			dirs = append(dirs, e.Name())
		}
	}
	names := routes.Names()
	for _, d := range dirs {
		if !slices.Contains(names, d) {
			t.Errorf("functions/%s has no entry in the route table", d)
		}
	}
	for _, n := range names {
		if !slices.Contains(dirs, n) {
			t.Errorf("route table entry %q has no functions/%s directory", n, n)
		}
	}

	kinds := map[string]string{}
	for _, f := range routes.Functions {
		kinds[f.Name] = f.Kind
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(functionsDir, name, "main.go")
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			if f.Name.Name != "main" {
				t.Errorf("%s is package %s, want main", path, f.Name.Name)
			}
			calls := bootCalls(t, f)
			if _, ok := routes.ByName(name); ok {
				// An HTTP route's main must boot exactly its own route.
				want := map[string][][]string{"HTTP": {{name}}}
				if !equalCalls(calls, want) {
					t.Errorf("%s calls boot %v, want exactly boot.HTTP(%q)", path, calls, name)
				}
				return
			}
			switch kinds[name] {
			case routes.KindAuthorizer:
				want := map[string][][]string{"Authorizer": {{}}}
				if !equalCalls(calls, want) {
					t.Errorf("%s calls boot %v, want exactly boot.Authorizer()", path, calls)
				}
			default:
				// Kinds without a known entry point must at least name themselves.
				if !slices.Contains(stringLiterals(f), name) {
					t.Errorf("%s has no string literal %q", path, name)
				}
			}
		})
	}
}

func equalCalls(got, want map[string][][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, w := range want {
		g := got[k]
		if len(g) != len(w) {
			return false
		}
		for i := range w {
			if !slices.Equal(g[i], w[i]) {
				return false
			}
		}
	}
	return true
}
