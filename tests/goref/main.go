// Command goref is the reference implementation of `templet preview`: it
// renders a template with Go's text/template (builtin functions only) so that
// templet's output can be compared with Go's byte for byte.
//
// Usage:
//
//	goref [preview] TEMPLATE [--data FILE] [--left-delimiter S]
//	      [--right-delimiter S] [--error-on-missing-key]
//
// The template's name is TEMPLATE exactly as given. --data binds a JSON
// document to dot (integers that fit become int64, other numbers float64).
// Output is rendered to a buffer first; on error nothing is written to
// stdout, the error goes to stderr and the exit status is 1. Usage errors
// exit with status 2.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/template"
)

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "goref: %s\nusage: goref [preview] TEMPLATE [--data FILE] [--left-delimiter S] [--right-delimiter S] [--error-on-missing-key]\n", msg)
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err.Error())
	os.Exit(1)
}

// convert replaces every json.Number by int64 (when it fits) or float64.
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

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "preview" {
		args = args[1:]
	}
	var name, dataFile string
	left, right := "", ""
	missingKeyError := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() string {
			if i+1 >= len(args) {
				usage("missing value for " + a)
			}
			i++
			return args[i]
		}
		switch a {
		case "--data":
			dataFile = value()
		case "--left-delimiter":
			left = value()
		case "--right-delimiter":
			right = value()
		case "--error-on-missing-key":
			missingKeyError = true
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
	t := template.New(name).Delims(left, right)
	if missingKeyError {
		t = t.Option("missingkey=error")
	}
	if t, err = t.Parse(string(src)); err != nil {
		fail(err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		fail(err)
	}
	os.Stdout.Write(out.Bytes())
}
