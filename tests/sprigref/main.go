// Command sprigref is the Sprig reference for `templet preview`: goref's
// contract (tests/goref) with Sprig's hermetic functions registered as
// consul-template registers them (`sprig_` + name, from HermeticTxtFuncMap),
// and consul-template's spew_* functions over go-spew.
// It produces the expected outputs of the tests/corpus/sprig_* areas; see
// tests/corpus/regen-sprig.sh for how it is built from Debian's packages.
//
// Debian ships Sprig 3.2.3; consul-template pins 3.3.0, which adds only
// sha512sum (and calls xstrings.ToPascalCase for camelcase, the same upper
// camel case that 3.2.3's xstrings.ToCamelCase produces). sha512sum is
// therefore added here with 3.3.0's definition.
package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/davecgh/go-spew/spew"
)

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "sprigref: %s\nusage: sprigref [preview] TEMPLATE [--data FILE]\n", msg)
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err.Error())
	os.Exit(1)
}

func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	}
	return v
}

func loadJSON(path string) (interface{}, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: trailing data after JSON document", path)
	}
	return convert(v), nil
}

// truncateContext shortens the action quoted in an execution error to 20 runes and "...", as
// text/template has done since Go 1.20 (consul-template is built with a current Go; Debian's is
// 1.19).
func truncateContext(msg string) string {
	at := strings.Index(msg, " at <")
	if at < 0 {
		return msg
	}
	start := at + len(" at <")
	end := strings.Index(msg[start:], ">: ")
	if end < 0 {
		return msg
	}
	ctx := []rune(msg[start : start+end])
	if len(ctx) <= 20 {
		return msg
	}
	return msg[:start] + string(ctx[:20]) + "..." + msg[start+end:]
}

func funcs() template.FuncMap {
	m := template.FuncMap{}
	for k, v := range sprig.HermeticTxtFuncMap() {
		m["sprig_"+k] = v
	}
	m["sprig_sha512sum"] = func(input string) string {
		h := sha512.Sum512([]byte(input))
		return hex.EncodeToString(h[:])
	}
	// consul-template's spew_* debug functions; the two that print write to stderr here, as
	// templet writes them to its log rather than into the rendered output.
	m["spew_sdump"] = func(args ...interface{}) (string, error) { return spew.Sdump(args...), nil }
	m["spew_sprintf"] = func(format string, args ...interface{}) (string, error) {
		return spew.Sprintf(format, args...), nil
	}
	m["spew_dump"] = func(args ...interface{}) (string, error) {
		spew.Fdump(os.Stderr, args...)
		return "", nil
	}
	m["spew_printf"] = func(format string, args ...interface{}) (string, error) {
		spew.Fprintf(os.Stderr, format, args...)
		return "", nil
	}
	return m
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "preview" {
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--list" {
		for k := range funcs() {
			fmt.Println(k)
		}
		return
	}
	var name, dataFile string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--data":
			if i+1 >= len(args) {
				usage("missing value for --data")
			}
			i++
			dataFile = args[i]
		default:
			if len(a) > 1 && a[0] == '-' {
				usage("unknown flag " + a)
			}
			if name != "" {
				usage("more than one template given")
			}
			name = a
		}
	}
	if name == "" {
		usage("no template given")
	}
	src, err := os.ReadFile(name)
	if err != nil {
		fail(err)
	}
	var data interface{}
	if dataFile != "" {
		if data, err = loadJSON(dataFile); err != nil {
			fail(err)
		}
	}
	t, err := template.New(name).Funcs(funcs()).Parse(string(src))
	if err != nil {
		fail(err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		fail(errors.New(truncateContext(err.Error())))
	}
	os.Stdout.Write(out.Bytes())
}
