// The parse tree of a template, shaped like Go's text/template/parse nodes.
//
// Every node keeps its byte offset in the source so errors can say NAME:LINE:COL, and prints
// itself back as template text (String), which is what Go's errors show after "at <...>".
// Names are resolved while parsing: functions to their table entries, variables to the stack
// slot they will occupy at run time, number constants to ready-made Values. The executor then
// does no lookups by name except map keys and struct fields.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/value.hpp"

namespace templet {

struct Function;  // renderer/function.hpp

enum class NodeType : uint8_t {
  Text,
  Action,
  Bool,
  Chain,
  Command,
  Dot,
  Field,
  Identifier,
  If,
  List,
  Nil,
  Number,
  Pipe,
  Range,
  String,
  Template,
  Variable,
  With,
  Comment,
  Break,
  Continue,
};

struct Node {
  NodeType type;
  int64_t pos;  // byte offset in the template source
  int line;     // 1-based line of pos
  Node(NodeType t, int64_t p, int l) : type(t), pos(p), line(l) {}
  virtual ~Node() = default;
  // The node as template text, as Go's Node.String() prints it.
  virtual std::string string() const = 0;
};
using NodePtr = std::unique_ptr<Node>;

struct ListNode : Node {
  std::vector<NodePtr> nodes;
  ListNode(int64_t p, int l) : Node(NodeType::List, p, l) {}
  std::string string() const override;
};

struct TextNode : Node {
  std::string text;
  TextNode(int64_t p, int l, std::string t) : Node(NodeType::Text, p, l), text(std::move(t)) {}
  std::string string() const override;
};

struct CommentNode : Node {
  std::string text;  // including the /* */
  CommentNode(int64_t p, int l, std::string t)
      : Node(NodeType::Comment, p, l), text(std::move(t)) {}
  std::string string() const override;
};

struct VariableNode;

// A pipeline: optional declarations ($x := or $x =) and a chain of commands separated by |.
struct PipeNode : Node {
  bool is_assign = false;  // $x = ... rather than $x := ...
  std::vector<std::unique_ptr<VariableNode>> decl;
  std::vector<std::unique_ptr<struct CommandNode>> cmds;
  PipeNode(int64_t p, int l) : Node(NodeType::Pipe, p, l) {}
  std::string string() const override;
};

struct ActionNode : Node {
  std::unique_ptr<PipeNode> pipe;
  ActionNode(int64_t p, int l, std::unique_ptr<PipeNode> pp)
      : Node(NodeType::Action, p, l), pipe(std::move(pp)) {}
  std::string string() const override;
};

struct CommandNode : Node {
  std::vector<NodePtr> args;  // args[0] is the function or operand
  CommandNode(int64_t p, int l) : Node(NodeType::Command, p, l) {}
  std::string string() const override;
};

struct IdentifierNode : Node {
  std::string ident;
  const Function* fn = nullptr;  // resolved at parse time; never null after a successful parse
  IdentifierNode(int64_t p, int l, std::string i)
      : Node(NodeType::Identifier, p, l), ident(std::move(i)) {}
  std::string string() const override;
};

// $x or $x.Field1.Field2. `slot` is the index of the variable in the execution's variable
// stack (0 is $), fixed at parse time because scoping is lexical.
struct VariableNode : Node {
  std::vector<std::string> ident;  // ident[0] is the variable name with its $
  int slot = -1;
  VariableNode(int64_t p, int l) : Node(NodeType::Variable, p, l) {}
  std::string string() const override;
};

struct DotNode : Node {
  DotNode(int64_t p, int l) : Node(NodeType::Dot, p, l) {}
  std::string string() const override { return "."; }
};

struct NilNode : Node {
  NilNode(int64_t p, int l) : Node(NodeType::Nil, p, l) {}
  std::string string() const override { return "nil"; }
};

// .Field1.Field2 (names without the dots).
struct FieldNode : Node {
  std::vector<std::string> ident;
  FieldNode(int64_t p, int l) : Node(NodeType::Field, p, l) {}
  std::string string() const override;
};

// (pipeline).Field1.Field2, or a chain on another operand.
struct ChainNode : Node {
  NodePtr node;
  std::vector<std::string> field;  // names without the dots
  ChainNode(int64_t p, int l) : Node(NodeType::Chain, p, l) {}
  std::string string() const override;
};

struct BoolNode : Node {
  bool value;
  BoolNode(int64_t p, int l, bool v) : Node(NodeType::Bool, p, l), value(v) {}
  std::string string() const override { return value ? "true" : "false"; }
};

// A numeric constant, with every interpretation Go's parser finds valid.
struct NumberNode : Node {
  bool is_int = false;
  bool is_uint = false;
  bool is_float = false;
  bool is_complex = false;
  int64_t int64 = 0;
  uint64_t uint64 = 0;
  double float64 = 0;
  std::complex<double> complex128{};
  std::string text;  // as written
  NumberNode(int64_t p, int l, std::string t) : Node(NodeType::Number, p, l), text(std::move(t)) {}
  std::string string() const override { return text; }
};

struct StringNode : Node {
  std::string quoted;  // as written, with quotes
  std::string text;    // unquoted
  Value value;         // text as a ready Value of type string
  StringNode(int64_t p, int l, std::string q, std::string t)
      : Node(NodeType::String, p, l),
        quoted(std::move(q)),
        text(std::move(t)),
        value(Value::string(text)) {}
  std::string string() const override { return quoted; }
};

// if / range / with share this shape.
struct BranchNode : Node {
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // may be null
  BranchNode(NodeType t, int64_t p, int l) : Node(t, p, l) {}
  std::string string() const override;
};
struct IfNode : BranchNode {
  IfNode(int64_t p, int l) : BranchNode(NodeType::If, p, l) {}
};
struct RangeNode : BranchNode {
  RangeNode(int64_t p, int l) : BranchNode(NodeType::Range, p, l) {}
};
struct WithNode : BranchNode {
  WithNode(int64_t p, int l) : BranchNode(NodeType::With, p, l) {}
};

struct BreakNode : Node {
  BreakNode(int64_t p, int l) : Node(NodeType::Break, p, l) {}
  std::string string() const override { return "{{break}}"; }
};
struct ContinueNode : Node {
  ContinueNode(int64_t p, int l) : Node(NodeType::Continue, p, l) {}
  std::string string() const override { return "{{continue}}"; }
};

// {{template "name" pipeline}}
struct TemplateNode : Node {
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // may be null
  TemplateNode(int64_t p, int l, std::string n)
      : Node(NodeType::Template, p, l), name(std::move(n)) {}
  std::string string() const override;
};

// One parsed template (the main one or a {{define}}). `source` is shared by all trees parsed
// from the same text, for turning positions into LINE:COL.
struct Tree {
  std::string name;        // the template's name ("" for consul-template's anonymous one)
  std::string parse_name;  // name of the top-level template, used in error locations
  std::shared_ptr<const std::string> source;
  std::unique_ptr<ListNode> root;

  // "LINE:COL" of a byte offset, Go's ErrorContext numbering (COL counts bytes from 0... see
  // ast.cpp for the exact rule).
  std::string location(int64_t pos) const;
};

// Is this tree only whitespace and comments? (Go's parse.IsEmptyTree; such a define does not
// replace an earlier one.)
bool is_empty_tree(const Node* n);

// The set of templates one parse produced, by name.
using TreeSet = std::map<std::string, std::shared_ptr<Tree>>;

}  // namespace templet
