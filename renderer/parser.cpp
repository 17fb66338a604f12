// The template parser: Go's text/template/parse grammar, acceptance rules and messages, on top
// of the lexer. It also resolves names: identifiers to function table entries and variables to
// the slot they occupy in the executor's variable stack.
#include "renderer/parser.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "renderer/lexer.hpp"
#include "renderer/parse_literals.hpp"

namespace templet {

using namespace golang;

namespace {

const char* const kBuiltinNames[] = {
    "and", "or",       "not", "len", "index", "slice", "print", "printf", "println", "html",
    "js",  "urlquery", "eq",  "ne",  "lt",    "le",    "gt",    "ge",     "call"};

bool is_builtin_name(std::string_view name) {
  for (const char* b : kBuiltinNames) {
    if (name == b) return true;
  }
  return false;
}

// ---- the parser ---------------------------------------------------------------------------

// What textOrAction produced: a node, or an {{end}} / {{else}} marker (never put in a tree).
struct Piece {
  enum Kind { Plain, End, Else } kind = Plain;
  NodePtr node;
  int64_t pos = 0;
  int line = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& opt, TreeSet& set)
      : text_(text),
        opt_(opt),
        lex_(text, opt.left_delim, opt.right_delim),
        source_(std::make_shared<const std::string>(text)),
        set_(set) {
    lex_.set_options(false, !has_function("break"), !has_function("continue"));
  }

  void parse_main();

 private:
  // Go bounds neither parenthesized pipelines nor nested control structures; its stacks grow. A
  // C++ stack does not: a few thousand levels overflow 8 MiB (parsing and then freeing the tree
  // both recurse), so nesting deeper than this is a parse error. No template written by hand or
  // generated sensibly comes near it.
  static constexpr int kMaxNesting = 1000;
  int nesting_ = 0;
  struct Nest {
    explicit Nest(Parser& p) : p_(p) {
      if (p_.nesting_ >= kMaxNesting)
        p_.fail("exceeded maximum nesting depth (" + std::to_string(kMaxNesting) + ")");
      ++p_.nesting_;
    }
    ~Nest() { --p_.nesting_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    Parser& p_;
  };

  struct Scope {
    std::vector<std::string_view> vars;  // Go's parse-time variable names
    std::vector<std::string_view> live;  // the executor's stack, in push order
    int range_depth = 0;
    int action_line = 0;
  };

  // Token buffer, with Go's three-token lookahead.
  Item next() {
    if (peek_count_ > 0) {
      --peek_count_;
    } else {
      token_[0] = lex_.next_item();
    }
    return token_[peek_count_];
  }
  void backup() { ++peek_count_; }
  void backup2(const Item& t1) {
    token_[1] = t1;
    peek_count_ = 2;
  }
  void backup3(const Item& t2, const Item& t1) {
    token_[1] = t1;
    token_[2] = t2;
    peek_count_ = 3;
  }
  Item peek() {
    if (peek_count_ > 0) return token_[peek_count_ - 1];
    peek_count_ = 1;
    token_[0] = lex_.next_item();
    return token_[0];
  }
  Item next_non_space() {
    Item t;
    do {
      t = next();
    } while (t.type == ItemType::Space);
    return t;
  }
  Item peek_non_space() {
    Item t = next_non_space();
    backup();
    return t;
  }

  [[noreturn]] void fail_at(const Item& at, const std::string& msg) {
    std::string_view before = text_.substr(0, std::min<size_t>(at.pos, text_.size()));
    size_t nl = before.rfind('\n');
    size_t col = nl == std::string_view::npos ? before.size() : before.size() - (nl + 1);
    throw ParseError("template: " + opt_.name + ":" + std::to_string(at.line) + ":" +
                     std::to_string(col) + ": " + msg);
  }
  [[noreturn]] void fail(const std::string& msg) { fail_at(token_[0], msg); }

  [[noreturn]] void unexpected(const Item& tok, std::string_view context) {
    if (tok.type == ItemType::Error) {
      std::string extra;
      if (scope_.action_line != 0 && scope_.action_line != tok.line) {
        extra = " in action started at " + opt_.name + ":" + std::to_string(scope_.action_line);
        if (tok.val.ends_with(" action"))
          extra = extra.substr(std::string_view(" in action").size());
      }
      fail(std::string(tok.val) + extra);
    }
    fail("unexpected " + tok.describe() + " in " + std::string(context));
  }
  Item expect(ItemType type, std::string_view context) {
    Item t = next_non_space();
    if (t.type != type) unexpected(t, context);
    return t;
  }

  bool has_function(std::string_view name) const {
    if (opt_.funcs && opt_.funcs->find(name)) return true;
    return is_builtin_name(name);
  }

  std::shared_ptr<Tree> new_tree(std::string name) {
    auto t = std::make_shared<Tree>();
    t->name = std::move(name);
    t->parse_name = opt_.name;
    t->source = source_;
    return t;
  }
  void add(const std::shared_ptr<Tree>& t) {
    auto it = set_.find(t->name);
    if (it == set_.end() || is_empty_tree(it->second->root.get())) {
      set_[t->name] = t;
      return;
    }
    if (!is_empty_tree(t->root.get())) {
      fail("template: multiple definition of template " + golang::quote(t->name));
    }
  }
  Scope fresh_scope() {
    Scope s;
    s.vars.push_back("$");
    s.live.push_back("$");
    return s;
  }

  std::string unquote_or_fail(std::string_view quoted) {
    std::string s;
    if (!unquote(quoted, &s)) fail("invalid syntax");
    return s;
  }

  void parse_definition();
  std::unique_ptr<ListNode> item_list(Piece* end);
  Piece text_or_action();
  Piece action();
  NodePtr break_control(const Item& tok, bool is_break);
  std::unique_ptr<PipeNode> pipeline(std::string_view context, ItemType end);
  void check_pipeline(const PipeNode& pipe, std::string_view context);
  NodePtr parse_control(NodeType type, std::string_view context);
  Piece else_control();
  NodePtr block_control();
  NodePtr template_control();
  std::string parse_template_name(const Item& tok, std::string_view context);
  std::unique_ptr<CommandNode> command();
  NodePtr operand();
  NodePtr term();
  NodePtr number(const Item& tok);
  std::unique_ptr<VariableNode> use_var(const Item& tok);
  int live_slot(std::string_view name) const {
    for (size_t i = scope_.live.size(); i-- > 0;) {
      if (scope_.live[i] == name) return static_cast<int>(i);
    }
    return -1;
  }

  std::string_view text_;
  const ParseOptions& opt_;
  Lexer lex_;
  std::shared_ptr<const std::string> source_;
  TreeSet& set_;
  Item token_[3];
  int peek_count_ = 0;
  Scope scope_ = fresh_scope();
};

void Parser::parse_main() {
  auto tree = new_tree(opt_.name);
  Item first = peek();
  tree->root = std::make_unique<ListNode>(first.pos, first.line);
  while (peek().type != ItemType::Eof) {
    if (peek().type == ItemType::LeftDelim) {
      Item delim = next();
      if (next_non_space().type == ItemType::Define) {
        parse_definition();
        continue;
      }
      backup2(delim);
    }
    Piece p = text_or_action();
    if (p.kind == Piece::End) fail("unexpected {{end}}");
    if (p.kind == Piece::Else) fail("unexpected {{else}}");
    tree->root->nodes.push_back(std::move(p.node));
  }
  add(tree);
}

void Parser::parse_definition() {
  static constexpr std::string_view kContext = "define clause";
  Scope saved = std::move(scope_);
  scope_ = fresh_scope();
  Item name = next_non_space();
  if (name.type != ItemType::String && name.type != ItemType::RawString) {
    unexpected(name, kContext);
  }
  auto tree = new_tree(unquote_or_fail(name.val));
  expect(ItemType::RightDelim, kContext);
  Piece end;
  tree->root = item_list(&end);
  if (end.kind != Piece::End) fail("unexpected {{else}} in define clause");
  add(tree);
  scope_ = std::move(saved);
}

std::unique_ptr<ListNode> Parser::item_list(Piece* end) {
  Nest nest(*this);
  Item first = peek_non_space();
  auto list = std::make_unique<ListNode>(first.pos, first.line);
  while (peek_non_space().type != ItemType::Eof) {
    Piece p = text_or_action();
    if (p.kind != Piece::Plain) {
      *end = std::move(p);
      return list;
    }
    list->nodes.push_back(std::move(p.node));
  }
  fail("unexpected EOF");
}

Piece Parser::text_or_action() {
  Item tok = next_non_space();
  Piece p;
  switch (tok.type) {
    case ItemType::Text:
      p.node = std::make_unique<TextNode>(tok.pos, tok.line, std::string(tok.val));
      return p;
    case ItemType::LeftDelim:
      scope_.action_line = tok.line;
      p = action();
      scope_.action_line = 0;
      return p;
    case ItemType::Comment:
      p.node = std::make_unique<CommentNode>(tok.pos, tok.line, std::string(tok.val));
      return p;
    default:
      unexpected(tok, "input");
  }
}

Piece Parser::action() {
  Item tok = next_non_space();
  Piece p;
  switch (tok.type) {
    case ItemType::Block:
      p.node = block_control();
      return p;
    case ItemType::Break:
    case ItemType::Continue:
      p.node = break_control(tok, tok.type == ItemType::Break);
      return p;
    case ItemType::Else:
      return else_control();
    case ItemType::End: {
      Item t = expect(ItemType::RightDelim, "end");
      p.kind = Piece::End;
      p.pos = t.pos;
      p.line = t.line;
      return p;
    }
    case ItemType::If:
      p.node = parse_control(NodeType::If, "if");
      return p;
    case ItemType::Range:
      p.node = parse_control(NodeType::Range, "range");
      return p;
    case ItemType::Template:
      p.node = template_control();
      return p;
    case ItemType::With:
      p.node = parse_control(NodeType::With, "with");
      return p;
    default:
      break;
  }
  backup();
  Item first = peek();
  auto pipe = pipeline("command", ItemType::RightDelim);
  p.node = std::make_unique<ActionNode>(first.pos, first.line, std::move(pipe));
  return p;
}

NodePtr Parser::break_control(const Item& kw, bool is_break) {
  Item t = next_non_space();
  if (t.type != ItemType::RightDelim) unexpected(t, is_break ? "{{break}}" : "{{continue}}");
  if (scope_.range_depth == 0) {
    fail(is_break ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
  }
  if (is_break) return std::make_unique<BreakNode>(kw.pos, kw.line);
  return std::make_unique<ContinueNode>(kw.pos, kw.line);
}

Piece Parser::else_control() {
  Piece p;
  p.kind = Piece::Else;
  Item pk = peek_non_space();
  if (pk.type == ItemType::If || pk.type == ItemType::With) {
    p.pos = pk.pos;
    p.line = pk.line;
    return p;
  }
  Item t = expect(ItemType::RightDelim, "else");
  p.pos = t.pos;
  p.line = t.line;
  return p;
}

std::unique_ptr<PipeNode> Parser::pipeline(std::string_view context, ItemType end) {
  Nest nest(*this);
  Item first = peek_non_space();
  auto pipe = std::make_unique<PipeNode>(first.pos, first.line);
  for (;;) {  // declarations; loops only for the second variable of a range
    Item v = peek_non_space();
    if (v.type != ItemType::Variable) break;
    next();
    Item after = peek();
    Item nx = peek_non_space();
    auto declare = [&] {
      auto var = std::make_unique<VariableNode>(v.pos, v.line);
      var->ident.emplace_back(v.val);
      pipe->decl.push_back(std::move(var));
      scope_.vars.push_back(v.val);
    };
    if (nx.type == ItemType::Assign || nx.type == ItemType::Declare) {
      pipe->is_assign = nx.type == ItemType::Assign;
      next_non_space();
      declare();
      break;
    }
    if (nx.type == ItemType::Char && nx.val == ",") {
      next_non_space();
      declare();
      if (context == "range" && pipe->decl.size() < 2) {
        ItemType k = peek_non_space().type;
        if (k == ItemType::Variable || k == ItemType::RightDelim || k == ItemType::RightParen) {
          continue;
        }
        fail("range can only initialize variables");
      }
      fail("too many declarations in " + std::string(context));
    }
    if (after.type == ItemType::Space) {
      backup3(v, after);
    } else {
      backup2(v);
    }
    break;
  }
  for (;;) {
    Item t = next_non_space();
    if (t.type == end) {
      check_pipeline(*pipe, context);
      // The executor pushes declared variables (or assigns) after evaluating the commands.
      for (auto& d : pipe->decl) {
        if (pipe->is_assign) {
          d->slot = live_slot(d->ident[0]);
        } else {
          d->slot = static_cast<int>(scope_.live.size());
          scope_.live.push_back(d->ident[0]);
        }
      }
      return pipe;
    }
    switch (t.type) {
      case ItemType::Bool:
      case ItemType::CharConstant:
      case ItemType::Complex:
      case ItemType::Dot:
      case ItemType::Field:
      case ItemType::Identifier:
      case ItemType::Number:
      case ItemType::Nil:
      case ItemType::RawString:
      case ItemType::String:
      case ItemType::Variable:
      case ItemType::LeftParen:
        backup();
        pipe->cmds.push_back(command());
        break;
      default:
        unexpected(t, context);
    }
  }
}

void Parser::check_pipeline(const PipeNode& pipe, std::string_view context) {
  if (pipe.cmds.empty()) fail("missing value for " + std::string(context));
  for (size_t i = 1; i < pipe.cmds.size(); ++i) {
    switch (pipe.cmds[i]->args[0]->type) {
      case NodeType::Bool:
      case NodeType::Dot:
      case NodeType::Nil:
      case NodeType::Number:
      case NodeType::String:
        fail("non executable command in pipeline stage " + std::to_string(i + 1));
      default:
        break;
    }
  }
}

NodePtr Parser::parse_control(NodeType type, std::string_view context) {
  size_t vars_mark = scope_.vars.size();
  size_t live_mark = scope_.live.size();
  auto pipe = pipeline(context, ItemType::RightDelim);
  bool is_range = type == NodeType::Range;
  if (is_range) ++scope_.range_depth;
  Piece next_piece;
  auto list = item_list(&next_piece);
  if (is_range) --scope_.range_depth;
  std::unique_ptr<ListNode> else_list;
  if (next_piece.kind == Piece::Else) {
    if (type == NodeType::If && peek().type == ItemType::If) {
      next();
      else_list = std::make_unique<ListNode>(next_piece.pos, next_piece.line);
      else_list->nodes.push_back(parse_control(NodeType::If, "if"));
    } else if (type == NodeType::With && peek().type == ItemType::With) {
      next();
      else_list = std::make_unique<ListNode>(next_piece.pos, next_piece.line);
      else_list->nodes.push_back(parse_control(NodeType::With, "with"));
    } else {
      Piece end;
      else_list = item_list(&end);
      if (end.kind != Piece::End) fail("expected end; found {{else}}");
    }
  }
  scope_.vars.resize(vars_mark);
  scope_.live.resize(live_mark);
  std::unique_ptr<BranchNode> n;
  if (type == NodeType::If) {
    n = std::make_unique<IfNode>(pipe->pos, pipe->line);
  } else if (type == NodeType::Range) {
    n = std::make_unique<RangeNode>(pipe->pos, pipe->line);
  } else {
    n = std::make_unique<WithNode>(pipe->pos, pipe->line);
  }
  n->pipe = std::move(pipe);
  n->list = std::move(list);
  n->else_list = std::move(else_list);
  return n;
}

NodePtr Parser::block_control() {
  static constexpr std::string_view kContext = "block clause";
  Item tok = next_non_space();
  std::string name = parse_template_name(tok, kContext);
  auto pipe = pipeline(kContext, ItemType::RightDelim);
  Item outer_last = token_[0];  // Go reports a bad block end against the outer tree's token
  Scope saved = std::move(scope_);
  scope_ = fresh_scope();
  auto tree = new_tree(name);
  Piece end;
  tree->root = item_list(&end);
  if (end.kind != Piece::End) fail_at(outer_last, "unexpected {{else}} in block clause");
  add(tree);
  scope_ = std::move(saved);
  auto n = std::make_unique<TemplateNode>(tok.pos, tok.line, std::move(name));
  n->pipe = std::move(pipe);
  return n;
}

NodePtr Parser::template_control() {
  static constexpr std::string_view kContext = "template clause";
  Item tok = next_non_space();
  std::string name = parse_template_name(tok, kContext);
  auto n = std::make_unique<TemplateNode>(tok.pos, tok.line, std::move(name));
  if (next_non_space().type != ItemType::RightDelim) {
    backup();
    n->pipe = pipeline(kContext, ItemType::RightDelim);
  }
  return n;
}

std::string Parser::parse_template_name(const Item& tok, std::string_view context) {
  if (tok.type == ItemType::String || tok.type == ItemType::RawString) {
    return unquote_or_fail(tok.val);
  }
  unexpected(tok, context);
}

std::unique_ptr<CommandNode> Parser::command() {
  Item first = peek_non_space();
  auto cmd = std::make_unique<CommandNode>(first.pos, first.line);
  for (;;) {
    peek_non_space();
    if (NodePtr op = operand()) cmd->args.push_back(std::move(op));
    Item t = next();
    if (t.type == ItemType::Space) continue;
    if (t.type == ItemType::RightDelim || t.type == ItemType::RightParen) {
      backup();
    } else if (t.type != ItemType::Pipe) {
      unexpected(t, "operand");
    }
    break;
  }
  if (cmd->args.empty()) fail("empty command");
  return cmd;
}

NodePtr Parser::operand() {
  NodePtr node = term();
  if (!node) return node;
  if (peek().type != ItemType::Field) return node;
  Item at = peek();
  std::vector<std::string> fields;
  while (peek().type == ItemType::Field) fields.emplace_back(next().val.substr(1));
  switch (node->type) {
    case NodeType::Field: {
      auto f = std::make_unique<FieldNode>(at.pos, at.line);
      f->ident = std::move(static_cast<FieldNode&>(*node).ident);
      for (auto& s : fields) f->ident.push_back(std::move(s));
      return f;
    }
    case NodeType::Variable: {
      auto& old = static_cast<VariableNode&>(*node);
      auto v = std::make_unique<VariableNode>(at.pos, at.line);
      v->ident = std::move(old.ident);
      v->slot = old.slot;
      for (auto& s : fields) v->ident.push_back(std::move(s));
      return v;
    }
    case NodeType::Bool:
    case NodeType::String:
    case NodeType::Number:
    case NodeType::Nil:
    case NodeType::Dot:
      fail("unexpected . after term " + golang::quote(node->string()));
    default: {
      auto c = std::make_unique<ChainNode>(at.pos, at.line);
      c->node = std::move(node);
      c->field = std::move(fields);
      return c;
    }
  }
}

std::unique_ptr<VariableNode> Parser::use_var(const Item& tok) {
  auto v = std::make_unique<VariableNode>(tok.pos, tok.line);
  v->ident.emplace_back(tok.val);
  bool found = false;
  for (std::string_view name : scope_.vars) {
    if (name == tok.val) {
      found = true;
      break;
    }
  }
  if (!found) fail("undefined variable " + golang::quote(tok.val));
  v->slot = live_slot(tok.val);
  return v;
}

NodePtr Parser::term() {
  Item t = next_non_space();
  switch (t.type) {
    case ItemType::Identifier: {
      if (!has_function(t.val)) fail("function " + golang::quote(t.val) + " not defined");
      auto id = std::make_unique<IdentifierNode>(t.pos, t.line, std::string(t.val));
      if (opt_.funcs) id->fn = opt_.funcs->find(t.val);
      if (!id->fn) id->fn = builtin_functions().find(t.val);
      return id;
    }
    case ItemType::Dot:
      return std::make_unique<DotNode>(t.pos, t.line);
    case ItemType::Nil:
      return std::make_unique<NilNode>(t.pos, t.line);
    case ItemType::Variable:
      return use_var(t);
    case ItemType::Field: {
      auto f = std::make_unique<FieldNode>(t.pos, t.line);
      f->ident.emplace_back(t.val.substr(1));
      return f;
    }
    case ItemType::Bool:
      return std::make_unique<BoolNode>(t.pos, t.line, t.val == "true");
    case ItemType::CharConstant:
    case ItemType::Complex:
    case ItemType::Number:
      return number(t);
    case ItemType::LeftParen:
      return pipeline("parenthesized pipeline", ItemType::RightParen);
    case ItemType::String:
    case ItemType::RawString: {
      std::string s = unquote_or_fail(t.val);
      return std::make_unique<StringNode>(t.pos, t.line, std::string(t.val), std::move(s));
    }
    default:
      backup();
      return nullptr;
  }
}

void simplify_complex(NumberNode& n) {
  n.is_float = n.complex128.imag() == 0;
  if (n.is_float) {
    n.float64 = n.complex128.real();
    n.is_int = fits_int64(n.float64);
    if (n.is_int) n.int64 = static_cast<int64_t>(n.float64);
    n.is_uint = fits_uint64(n.float64);
    if (n.is_uint) n.uint64 = static_cast<uint64_t>(n.float64);
  }
}

NodePtr Parser::number(const Item& tok) {
  std::string_view text = tok.val;
  auto n = std::make_unique<NumberNode>(tok.pos, tok.line, std::string(text));
  if (tok.type == ItemType::CharConstant) {
    size_t i = 1;
    int32_t r;
    bool mb;
    if (!unquote_char(text, &i, text[0], &r, &mb)) fail("invalid syntax");
    if (text.substr(i) != "'") fail("malformed character constant: " + std::string(text));
    n->int64 = r;
    n->is_int = true;
    n->uint64 = static_cast<uint64_t>(r);
    n->is_uint = true;
    n->float64 = r;
    n->is_float = true;
    return n;
  }
  if (tok.type == ItemType::Complex) {
    std::string err = scan_complex(text, &n->complex128);
    if (!err.empty()) fail(err);
    n->is_complex = true;
    simplify_complex(*n);
    return n;
  }
  if (!text.empty() && text.back() == 'i') {
    double f;
    if (parse_float(text.substr(0, text.size() - 1), &f) == NumStatus::Ok) {
      n->is_complex = true;
      n->complex128 = {0, f};
      simplify_complex(*n);
      return n;
    }
  }
  uint64_t u = 0;
  if (parse_uint(text, 0, &u) == NumStatus::Ok) {
    n->is_uint = true;
    n->uint64 = u;
  }
  int64_t i = 0;
  if (parse_int(text, 0, &i) == NumStatus::Ok) {
    n->is_int = true;
    n->int64 = i;
    if (i == 0) {
      n->is_uint = true;
      n->uint64 = u;
    }
  }
  if (n->is_int) {
    n->is_float = true;
    n->float64 = static_cast<double>(n->int64);
  } else if (n->is_uint) {
    n->is_float = true;
    n->float64 = static_cast<double>(n->uint64);
  } else {
    double f;
    if (parse_float(text, &f) == NumStatus::Ok) {
      if (text.find_first_of(".eEpP") == std::string_view::npos) {
        fail("integer overflow: " + golang::quote(text));
      }
      n->is_float = true;
      n->float64 = f;
      if (!n->is_int && fits_int64(f)) {
        n->is_int = true;
        n->int64 = static_cast<int64_t>(f);
      }
      if (!n->is_uint && fits_uint64(f)) {
        n->is_uint = true;
        n->uint64 = static_cast<uint64_t>(f);
      }
    }
  }
  if (!n->is_int && !n->is_uint && !n->is_float) {
    fail("illegal number syntax: " + golang::quote(text));
  }
  return n;
}

}  // namespace

TreeSet parse(std::string_view text, const ParseOptions& options) {
  TreeSet set;
  Parser p(text, options, set);
  p.parse_main();
  return set;
}

}  // namespace templet
