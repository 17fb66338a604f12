#!/usr/bin/env python3
"""Generate a large template + JSON data set for the render benchmark.

Writes bench.tmpl and bench.json into OUTDIR. The template exercises nested
ranges over maps and lists, printf with several verbs, eq/ne/lt/ge/and/or/not,
if/else if/else, with/else, variables and assignment, define/template, len and
index; with the default sizes it renders several MB of output.
Only Go text/template builtins are used (the contract of `templet preview`).

Usage: gen_render_bench.py OUTDIR [--items N] [--services N] [--seed S]
"""
import argparse
import json
import os
import random

TEMPLATE = r'''{{- define "kv" -}}
{{printf "%-12s" .k}} = {{if eq (printf "%T" .v) "string"}}{{printf "%q" .v}}{{else}}{{.v}}{{end}}
{{- end -}}
{{- define "instance"}}    - id: {{printf "%06d" .id}} host={{.host}}:{{.port}} weight={{printf "%.3f" .weight}}
      {{- if and .healthy (ge .weight 0.5)}} status=primary
      {{- else if .healthy}} status=secondary
      {{- else}} status=down{{end}}
      {{- with .meta}}{{range $k, $v := .}} {{$k}}={{$v}}{{end}}{{else}} no-meta{{end}}
{{- end -}}
# generated: {{.generated}} ({{len .items}} items, {{len .services}} services)
[config]
{{- range $k, $v := .config}}
{{template "kv" (index $.kvs $k)}}
{{- end}}

[services]
{{- range $name, $svc := .services}}
{{$name}} ({{len $svc.instances}} instances, tags: {{range $i, $t := $svc.tags}}{{if $i}}, {{end}}{{$t}}{{else}}none{{end}}):
{{- range $svc.instances}}
{{template "instance" .}}
{{- end}}
{{- end}}

[items]
{{- $total := 0.0}}{{$expensive := 0}}{{$last := ""}}
{{- range $i, $it := .items}}
{{printf "%5d" $i}} | {{printf "%-20s" $it.name}} | {{printf "%8.2f" $it.price}} x {{printf "%3d" $it.qty}} | {{printf "%x" $it.id}} | {{printf "%q" $it.sku}}
  {{- if lt $it.price 10.0}} cheap{{else if lt $it.price 100.0}} mid{{else}} expensive{{$expensive = $it.id}}{{end}}
  {{- if or (eq $it.category "tools" "garden") (and (gt $it.qty 50) (not $it.discontinued))}} featured{{end}}
  {{- if ne $it.category $last}} [new category {{$it.category}}]{{end}}{{$last = $it.category}}
  {{- with $it.attrs}}
    attrs:{{range $k, $v := .}} {{$k}}:{{$v}}{{end}}
  {{- else}}
    attrs: -
  {{- end}}
  {{- range $j, $t := $it.tags}}
    tag[{{$j}}] {{$t}}{{if eq $j 0}} (first){{end}}
  {{- end}}
{{- end}}

last expensive id: {{$expensive}}
'''

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
         "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo"]
CATEGORIES = ["tools", "garden", "kitchen", "books", "toys", "sports"]


def make_data(items, services, rnd):
    config = {f"{w}_{i}": (rnd.choice([rnd.randint(0, 10**6), rnd.random() * 1000, f"value {w} {i}", True]))
              for i, w in enumerate(WORDS)}
    kvs = {k: {"k": k, "v": v} for k, v in config.items()}
    svcs = {}
    for s in range(services):
        name = f"svc-{WORDS[s % len(WORDS)]}-{s:03d}"
        svcs[name] = {
            "tags": rnd.sample(WORDS, rnd.randint(0, 4)),
            "instances": [{
                "id": s * 1000 + n,
                "host": f"10.{s % 256}.{n // 256}.{n % 256}",
                "port": 8000 + n,
                "weight": round(rnd.random(), 3),
                "healthy": rnd.random() > 0.2,
                "meta": {f"m{k}": rnd.choice(WORDS) for k in range(rnd.randint(0, 3))},
            } for n in range(rnd.randint(5, 40))],
        }
    its = []
    for i in range(items):
        its.append({
            "id": 100000 + i,
            "name": f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i}",
            "sku": f"SKU-{i:07d}\t\"{rnd.choice(WORDS)}\"",
            "price": round(rnd.random() * 300, 2),
            "qty": rnd.randint(0, 100),
            "category": CATEGORIES[(i // 7) % len(CATEGORIES)],
            "discontinued": rnd.random() < 0.1,
            "tags": rnd.sample(WORDS, rnd.randint(0, 5)),
            "attrs": {f"a{k}": rnd.choice([rnd.randint(0, 99), rnd.choice(WORDS), 1.5, False])
                      for k in range(rnd.randint(0, 4))},
        })
    return {"generated": "2024-01-01T00:00:00Z", "config": config, "kvs": kvs,
            "services": svcs, "items": its}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--items", type=int, default=25000)
    ap.add_argument("--services", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, "bench.tmpl"), "w") as f:
        f.write(TEMPLATE)
    with open(os.path.join(args.outdir, "bench.json"), "w") as f:
        json.dump(make_data(args.items, args.services, rnd), f, separators=(",", ":"))
    print(os.path.join(args.outdir, "bench.tmpl"), os.path.join(args.outdir, "bench.json"))


if __name__ == "__main__":
    main()
