// Node printers (Go's node.go String methods), tree locations and Go's IsEmptyTree.
#include "renderer/ast.hpp"

#include <algorithm>

#include "renderer/lexer.hpp"

namespace templet {

namespace {
void write_pipe(std::string& out, const PipeNode& p);

void write_node(std::string& out, const Node& n) {
  if (n.type == NodeType::Pipe) {
    write_pipe(out, static_cast<const PipeNode&>(n));
  } else {
    out += n.string();
  }
}

void write_command(std::string& out, const CommandNode& c) {
  bool first = true;
  for (const auto& arg : c.args) {
    if (!first) out.push_back(' ');
    first = false;
    if (arg->type == NodeType::Pipe) {
      out.push_back('(');
      write_pipe(out, static_cast<const PipeNode&>(*arg));
      out.push_back(')');
    } else {
      write_node(out, *arg);
    }
  }
}

void write_pipe(std::string& out, const PipeNode& p) {
  if (!p.decl.empty()) {
    for (size_t i = 0; i < p.decl.size(); ++i) {
      if (i > 0) out += ", ";
      out += p.decl[i]->string();
    }
    out += p.is_assign ? " = " : " := ";
  }
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (i > 0) out += " | ";
    write_command(out, *p.cmds[i]);
  }
}

void write_list(std::string& out, const ListNode& l) {
  for (const auto& n : l.nodes) {
    if (n->type == NodeType::List) {
      write_list(out, static_cast<const ListNode&>(*n));
    } else {
      out += n->string();
    }
  }
}

void join_dotted(std::string& out, const std::vector<std::string>& parts, bool leading_dot) {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (leading_dot || i > 0) out.push_back('.');
    out += parts[i];
  }
}
}  // namespace

std::string ListNode::string() const {
  std::string out;
  write_list(out, *this);
  return out;
}

std::string TextNode::string() const {
  return text;
}

std::string CommentNode::string() const {
  return "{{" + text + "}}";
}

std::string PipeNode::string() const {
  std::string out;
  write_pipe(out, *this);
  return out;
}

std::string ActionNode::string() const {
  std::string out = "{{";
  write_pipe(out, *pipe);
  out += "}}";
  return out;
}

std::string CommandNode::string() const {
  std::string out;
  write_command(out, *this);
  return out;
}

std::string IdentifierNode::string() const {
  return ident;
}

std::string VariableNode::string() const {
  std::string out;
  join_dotted(out, ident, false);
  return out;
}

std::string FieldNode::string() const {
  std::string out;
  join_dotted(out, ident, true);
  return out;
}

std::string ChainNode::string() const {
  std::string out;
  if (node->type == NodeType::Pipe) {
    out.push_back('(');
    write_pipe(out, static_cast<const PipeNode&>(*node));
    out.push_back(')');
  } else {
    out += node->string();
  }
  join_dotted(out, field, true);
  return out;
}

std::string BranchNode::string() const {
  const char* name = type == NodeType::If ? "if" : type == NodeType::Range ? "range" : "with";
  std::string out = "{{";
  out += name;
  out.push_back(' ');
  write_pipe(out, *pipe);
  out += "}}";
  write_list(out, *list);
  if (else_list) {
    out += "{{else}}";
    write_list(out, *else_list);
  }
  out += "{{end}}";
  return out;
}

std::string TemplateNode::string() const {
  std::string out = "{{template ";
  out += golang::quote(name);
  if (pipe) {
    out.push_back(' ');
    write_pipe(out, *pipe);
  }
  out += "}}";
  return out;
}

std::string Tree::location(int64_t pos) const {
  std::string_view text = source ? std::string_view(*source) : std::string_view();
  if (pos < 0) pos = 0;
  if (static_cast<size_t>(pos) > text.size()) pos = static_cast<int64_t>(text.size());
  std::string_view before = text.substr(0, static_cast<size_t>(pos));
  size_t nl = before.rfind('\n');
  int64_t col = nl == std::string_view::npos ? pos : pos - static_cast<int64_t>(nl + 1);
  int64_t line = 1 + std::count(before.begin(), before.end(), '\n');
  return std::to_string(line) + ":" + std::to_string(col);
}

namespace {
bool only_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    int w;
    int32_t r = golang::decode_rune(s, i, &w);
    if (!golang::is_space_rune(r)) return false;
    i += static_cast<size_t>(w);
  }
  return true;
}
}  // namespace

bool is_empty_tree(const Node* n) {
  if (n == nullptr) return true;
  switch (n->type) {
    case NodeType::Comment:
      return true;
    case NodeType::List:
      for (const auto& c : static_cast<const ListNode*>(n)->nodes) {
        if (!is_empty_tree(c.get())) return false;
      }
      return true;
    case NodeType::Text:
      return only_space(static_cast<const TextNode*>(n)->text);
    default:
      return false;
  }
}

}  // namespace templet
