"""A small Flux reader for `option task = {...}` (InfluxDB v2 task/options/options.go rules).

Only what the task API needs: a tokenizer, the top-level `option task` statement, its object
literal, the literal kinds of its values, the validation rules and messages of http-apis.md §2.5,
and an approximate re-formatter for PATCH (the real server uses the Flux formatter).
"""

import calendar
import re
import time

DUR_UNITS = ["mo", "ms", "us", "\u00b5s", "ns", "y", "w", "d", "h", "m", "s"]
DUR_RE = re.compile(r"(?:(?:0|[1-9][0-9]*)(?:mo|ms|us|\u00b5s|ns|y|w|d|h|m|s))+")
DUR_PART = re.compile(r"(0|[1-9][0-9]*)(mo|ms|us|\u00b5s|ns|y|w|d|h|m|s)")
FIXED = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
         "d": 86400, "w": 604800}


class FluxError(Exception):
    pass


class OptionError(Exception):
    """Message without the 'invalid options: ' prefix."""


class Tok:
    __slots__ = ("kind", "text", "start", "end", "value", "interp")

    def __init__(self, kind, text, start, end, value=None, interp=False):
        self.kind, self.text, self.start, self.end = kind, text, start, end
        self.value, self.interp = value, interp

    def __repr__(self):
        return "Tok(%s,%r)" % (self.kind, self.text)


PUNCT = ["|>", "<-", "=>", "==", "!=", "<=", ">=", "=~", "!~", "{", "}", "(", ")", "[", "]",
         ",", ":", "=", "<", ">", "+", "-", "*", "/", "%", ".", "?", "^", "@"]


def tokenize(src):
    toks = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            j = i + 1
            out = []
            interp = False
            while True:
                if j >= n:
                    raise FluxError("got unexpected EOF in string expression")
                ch = src[j]
                if ch == "\\":
                    if j + 1 >= n:
                        raise FluxError("got unexpected EOF in string expression")
                    esc = src[j + 1]
                    out.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\",
                                "$": "$"}.get(esc, esc))
                    j += 2
                    continue
                if ch == "$" and j + 1 < n and src[j + 1] == "{":
                    interp = True
                    depth = 0
                    while j < n:
                        if src[j] == "{":
                            depth += 1
                        elif src[j] == "}":
                            depth -= 1
                            if depth == 0:
                                break
                        j += 1
                    j += 1
                    continue
                if ch == '"':
                    j += 1
                    break
                out.append(ch)
                j += 1
            toks.append(Tok("string", src[i:j], i, j, "".join(out), interp))
            i = j
            continue
        if c.isdigit():
            m = DUR_RE.match(src, i)
            if m:
                text = m.group(0)
                toks.append(Tok("duration", text, i, m.end(), text))
                i = m.end()
                continue
            if c == "0" and i + 1 < n and src[i + 1].isdigit():
                toks.append(Tok("int", "0", i, i + 1, 0))
                i += 1
                continue
            m = re.compile(r"[0-9]+\.[0-9]+|[0-9]+").match(src, i)
            text = m.group(0)
            kind = "float" if "." in text else "int"
            toks.append(Tok(kind, text, i, m.end(), float(text) if kind == "float" else int(text)))
            i = m.end()
            continue
        if c.isalpha() or c == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(src, i)
            toks.append(Tok("ident", m.group(0), i, m.end(), m.group(0)))
            i = m.end()
            continue
        for p in PUNCT:
            if src.startswith(p, i):
                toks.append(Tok("punct", p, i, i + len(p), p))
                i += len(p)
                break
        else:
            raise FluxError("invalid character %r at offset %d" % (c, i))
    return toks


def _find_task_options(toks):
    """Return list of (option_tok_index, eq_index) for top-level `option task =`."""
    found = []
    depth = 0
    for k, t in enumerate(toks):
        if t.kind == "punct" and t.text in "({[":
            depth += 1
        elif t.kind == "punct" and t.text in ")}]":
            depth -= 1
            if depth < 0:
                raise FluxError("unexpected token %s" % t.text)
        elif depth == 0 and t.kind == "ident" and t.text == "option" and k + 2 < len(toks) \
                and toks[k + 1].kind == "ident" and toks[k + 1].text == "task" and \
                toks[k + 2].text == "=":
            found.append((k, k + 2))
    if depth != 0:
        raise FluxError("expected RBRACE, got EOF")
    return found


def _match_close(toks, k):
    depth = 0
    for j in range(k, len(toks)):
        t = toks[j]
        if t.kind == "punct" and t.text in "({[":
            depth += 1
        elif t.kind == "punct" and t.text in ")}]":
            depth -= 1
            if depth == 0:
                return j
    raise FluxError("expected RBRACE, got EOF")


def _expr_type(vt):
    if not vt:
        return "BadExpression"
    t = vt[0]
    if len(vt) == 1:
        return {"string": "StringLiteral", "int": "IntegerLiteral", "float": "FloatLiteral",
                "duration": "DurationLiteral", "ident": "Identifier"}.get(t.kind,
                                                                          "BadExpression")
    if t.kind == "ident" and vt[1].text == "(":
        return "CallExpression"
    if t.kind == "ident" and vt[1].text == ".":
        return "MemberExpression"
    if t.text == "-" and len(vt) == 2:
        return "UnaryExpression"
    if t.text == "[":
        return "ArrayExpression"
    if t.text == "(":
        return "FunctionExpression"
    return "BinaryExpression"


class TaskOptions:
    def __init__(self):
        self.name = None
        self.every = None       # literal text
        self.every_s = None
        self.cron = None
        self.offset = None      # literal text incl. sign
        self.offset_s = None
        self.concurrency = 1
        self.retry = 1
        self.props = []          # [(key, value_text)]
        self.span = None         # (start, end) of the object literal in the source


def duration_seconds(text, now=None):
    """Flux duration literal -> seconds (calendar units relative to now)."""
    neg = text.startswith("-")
    body = text[1:] if neg else text
    now = time.time() if now is None else now
    secs = 0.0
    months = 0
    for m in DUR_PART.finditer(body):
        v, u = int(m.group(1)), m.group(2)
        if u == "mo":
            months += v
        elif u == "y":
            months += 12 * v
        else:
            secs += v * FIXED[u]
    if months:
        t = time.gmtime(now)
        y, mo = t.tm_year, t.tm_mon - 1 + months
        y += mo // 12
        mo = mo % 12 + 1
        day = min(t.tm_mday, calendar.monthrange(y, mo)[1])
        target = calendar.timegm((y, mo, day, t.tm_hour, t.tm_min, t.tm_sec))
        secs += target - int(now)
    return -secs if neg else secs


def parse_options(script):
    """FromScriptAST + Validate. Raises FluxError (syntax) or OptionError (message)."""
    toks = tokenize(script)
    found = _find_task_options(toks)
    if len(found) > 1:
        raise OptionError("multiple task options defined")
    if not found:
        raise OptionError("no task options defined")
    _, eq = found[0]
    if eq + 1 >= len(toks):
        raise FluxError("expected expression after =")
    first = toks[eq + 1]
    opts = TaskOptions()
    if first.text != "{":
        # expression up to end of line
        line_end = script.find("\n", first.start)
        vt = [t for t in toks[eq + 1:] if line_end < 0 or t.start < line_end]
        raise OptionError('task option expected to be object literal, but found "%s"'
                          % _expr_type(vt))
    close = _match_close(toks, eq + 1)
    opts.span = (toks[eq - 2].start, toks[close].end)
    inner = toks[eq + 2:close]
    # `{r with a: 1}`: skip the `r with` part
    if len(inner) >= 2 and inner[0].kind == "ident" and inner[1].text == "with":
        inner = inner[2:]
    props = {}
    k = 0
    while k < len(inner):
        keytok = inner[k]
        if keytok.kind not in ("ident", "string"):
            raise FluxError("unexpected token %s in object literal" % keytok.text)
        key = keytok.value
        k += 1
        if k < len(inner) and inner[k].text == ":":
            k += 1
            start = k
            depth = 0
            while k < len(inner):
                t = inner[k]
                if t.kind == "punct" and t.text in "({[":
                    depth += 1
                elif t.kind == "punct" and t.text in ")}]":
                    depth -= 1
                elif depth == 0 and t.text == ",":
                    break
                k += 1
            vt = inner[start:k]
        else:
            vt = [keytok]  # shorthand {name}
        if k < len(inner) and inner[k].text == ",":
            k += 1
        if not vt:
            raise FluxError("missing property value for %s" % key)
        props[key] = vt
        opts.props.append((key, script[vt[0].start:vt[-1].end]))

    def single(key, kind):
        vt = props[key]
        if len(vt) == 1 and vt[0].kind == kind and not vt[0].interp:
            return vt[0].value
        raise OptionError("failed to parse field '%s' in task options" % key)

    if "name" not in props:
        raise OptionError("missing required option: name")
    opts.name = single("name", "string")
    has_cron, has_every = "cron" in props, "every" in props
    if has_cron and has_every:
        raise OptionError("cannot use both cron and every in task options")
    if not has_cron and not has_every:
        raise OptionError("missing required option: cron or every")
    if has_cron:
        opts.cron = single("cron", "string")
    if has_every:
        opts.every = single("every", "duration")
    if "offset" in props:
        vt = props["offset"]
        if len(vt) == 1 and vt[0].kind == "duration":
            opts.offset = vt[0].value
        elif len(vt) == 2 and vt[0].text == "-" and vt[1].kind == "duration":
            opts.offset = "-" + vt[1].value
        else:
            raise OptionError("failed to parse field 'offset' in task options")
    if "concurrency" in props:
        opts.concurrency = single("concurrency", "int")
    if "retry" in props:
        opts.retry = single("retry", "int")
    validate(opts)
    return opts


def validate(opts):
    errs = []
    if not opts.name:
        errs.append("name required")
    now = time.time()
    every_s = duration_seconds(opts.every, now) if opts.every else 0
    cron_present = bool(opts.cron)
    every_present = every_s != 0
    if cron_present == every_present:
        errs.append("must specify exactly one of either cron or every")
    elif cron_present:
        e = validate_cron(opts.cron)
        if e:
            errs.append("cron invalid: " + e)
    else:
        if every_s < 1:
            errs.append("every option must be at least 1 second")
        elif abs(every_s - round(every_s)) > 1e-9:
            errs.append("every option must be expressible as whole seconds")
    opts.every_s = every_s
    if opts.offset:
        off = duration_seconds(opts.offset, now)
        opts.offset_s = off
        if abs(off - round(off)) > 1e-9:
            errs.append("offset option must be expressible as whole seconds")
    if opts.concurrency < 1:
        errs.append("concurrency must be at least 1")
    elif opts.concurrency > 100:
        errs.append("concurrency exceeded max of 100")
    if opts.retry < 1:
        errs.append("retry must be at least 1")
    elif opts.retry > 10:
        errs.append("retry exceeded max of 10")
    if errs:
        raise OptionError(", ".join(errs))


MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def validate_cron(expr):
    """Returns an error string or None (5, 6 or 7 fields, Quartz-ish)."""
    e = expr.strip()
    if e.lower() in DESCRIPTORS:
        return None
    if e.lower().startswith("@every "):
        return None
    fields = e.split()
    if len(fields) == 5:
        specs = [("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
                 ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS)]
    elif len(fields) == 6:
        specs = [("second", 0, 59, None), ("minute", 0, 59, None), ("hour", 0, 23, None),
                 ("day of month", 1, 31, None), ("month", 1, 12, MONTHS),
                 ("day of week", 0, 7, DAYS)]
    elif len(fields) == 7:
        specs = [("second", 0, 59, None), ("minute", 0, 59, None), ("hour", 0, 23, None),
                 ("day of month", 1, 31, None), ("month", 1, 12, MONTHS),
                 ("day of week", 0, 7, DAYS), ("year", 1970, 2099, None)]
    else:
        return "cron expression must have 5, 6 or 7 fields, got %d" % len(fields)

    for f, (fname, lo, hi, names) in zip(fields, specs):
        for part in f.split(","):
            if part in ("*", "?") or (fname in ("day of month", "day of week") and
                                      re.fullmatch(r"L|LW|\d+W|[0-7A-Za-z]+L|[0-7A-Za-z]+#[1-5]",
                                                   part)):
                continue
            rng, _, step = part.partition("/")
            if step and not step.isdigit():
                return "invalid step \"%s\" in %s field" % (step, fname)
            if rng == "*":
                continue
            bounds = rng.split("-")
            if len(bounds) > 2:
                return "invalid range \"%s\" in %s field" % (rng, fname)
            for b in bounds:
                v = None
                if b.isdigit():
                    v = int(b)
                elif names and b.upper() in names:
                    v = names.index(b.upper()) + (1 if names is MONTHS else 0)
                if v is None or v < lo or v > hi:
                    return "invalid value \"%s\" in %s field" % (b, fname)
    return None


def go_duration_text(seconds):
    """customParseDuration-style: [-]XhYmZs with zero parts dropped; 0 -> ''."""
    s = int(round(seconds))
    if s == 0:
        return ""
    neg = s < 0
    s = abs(s)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    out = ""
    if h:
        out += "%dh" % h
    if m:
        out += "%dm" % m
    if sec:
        out += "%ds" % sec
    return ("-" if neg else "") + out


def go_parse_offset(text):
    """time.ParseDuration on the offset literal; raises ValueError with Go's message."""
    body = text.lstrip("-")
    for m in DUR_PART.finditer(body):
        if m.group(2) in ("d", "w", "mo", "y"):
            raise ValueError('time: unknown unit "%s" in duration "%s"' % (m.group(2), text))
    return duration_seconds(text)


def flux_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") \
        .replace("\n", "\\n") + '"'


def rewrite(script, name=None, every=None, cron=None, offset=None):
    """Edit `option task` like updateFlux and re-format (approximately) the whole script."""
    toks = tokenize(script)
    found = _find_task_options(toks)
    if len(found) != 1:
        raise OptionError("no task options defined" if not found else
                          "multiple task options defined")
    opts = None
    try:
        opts = parse_options(script)
    except OptionError:
        # still allow edits of a script whose options are incomplete
        opts = TaskOptions()
        _, eq = found[0]
        close = _match_close(toks, eq + 1)
        opts.span = (toks[eq - 2].start, toks[close].end)
        inner = script[toks[eq + 1].end:toks[close].start]
        for part in _split_top(inner):
            if ":" in part:
                k, v = part.split(":", 1)
                opts.props.append((k.strip(), v.strip()))
    props = list(opts.props)

    def setp(key, val):
        for i, (k, _) in enumerate(props):
            if k == key:
                props[i] = (key, val)
                return
        props.append((key, val))

    def delp(key):
        props[:] = [(k, v) for k, v in props if k != key]

    if name is not None:
        setp("name", flux_string(name))
    if every is not None:
        setp("every", every)
        delp("cron")
    if cron is not None:
        setp("cron", flux_string(cron))
        delp("every")
    if offset is not None:
        if offset in ("", "0s", "0"):
            delp("offset")
        else:
            setp("offset", offset)
    obj = "option task = {" + ", ".join("%s: %s" % kv for kv in props) + "}"
    start, end = opts.span
    out = script[:start] + obj + script[end:]
    return reformat(out)


def _split_top(s):
    parts, depth, cur, in_str = [], 0, "", False
    i = 0
    while i < len(s):
        c = s[i]
        if in_str:
            cur += c
            if c == "\\" and i + 1 < len(s):
                cur += s[i + 1]
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur += c
        elif c in "({[":
            depth += 1
            cur += c
        elif c in ")}]":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        parts.append(cur)
    return parts


def reformat(script):
    """Approximation of astutil.Format: tabs -> 4 spaces, trailing blanks stripped, runs of
    blank lines collapsed to one, no leading/trailing blank lines."""
    lines = [ln.replace("\t", "    ").rstrip() for ln in script.replace("\r\n", "\n").split("\n")]
    out = []
    for ln in lines:
        if ln == "" and (not out or out[-1] == ""):
            continue
        out.append(ln)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
