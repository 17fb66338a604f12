#include "renderer/exec.hpp"

#include <charconv>
#include <cstring>
#include <span>

#include "renderer/gofmt.hpp"

namespace templet {

namespace {

// Param type meaning "no type at all" (Go's nil reflect.Type): values pass through unchecked.
constexpr const Type* kUntyped = nullptr;

const Type* param_type(const Type* declared) {
  return declared ? declared : &types::any;
}

bool can_be_nil(const Type* t) {
  if (t == nullptr) return false;
  if (t == &types::reflect_value) return true;
  switch (t->kind) {
    case Kind::List:
    case Kind::Map:
    case Kind::Func:
    case Kind::Interface:
      return true;
    case Kind::Struct:
      return t->pointer;
    default:
      return false;
  }
}

bool assignable(const Type* from, const Type* to) {
  return from == to || to == &types::any;
}

// Go's %.20s: at most 20 runes.
std::string truncate_runes(const std::string& s, size_t runes) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == runes) return s.substr(0, i) + "...";
      ++count;
    }
  }
  return s;
}

enum class Flow : uint8_t { Normal, Break, Continue };

using Args = std::span<const NodePtr>;

// A callable as the executor sees it: a function or a struct method.
struct Callee {
  const std::vector<const Type*>& params;
  bool variadic;
  Builtin builtin;
  bool disabled;
};

// What every State of one execution shares, through {{template}} calls.
struct Shared {
  uint64_t steps = 0;
};

class State {
 public:
  State(const TreeSet& trees, const Tree* tmpl, std::string& out, CallContext& ctx,
        const ExecOptions& opt, int depth, Shared& shared)
      : trees_(trees),
        tmpl_(tmpl),
        out_(out),
        ctx_(ctx),
        opt_(opt),
        depth_(depth),
        shared_(shared) {}

  void run(const Value& dot) {
    vars_.push_back(dot);
    walk(dot, tmpl_->root.get());
  }

 private:
  [[noreturn]] void errorf(const std::string& msg) const {
    std::string text = "template: ";
    if (node_ == nullptr) {
      text += tmpl_->name + ": " + msg;
    } else {
      text += tmpl_->parse_name + ":" + tmpl_->location(node_->pos) + ": executing ";
      gofmt::quote(text, tmpl_->name);
      text += " at <" + truncate_runes(node_->string(), 20) + ">: " + msg;
    }
    throw ExecError(text);
  }

  static std::string quoted(std::string_view s) {
    std::string q;
    gofmt::quote(q, s);
    return q;
  }

  static std::string sprint_v(const Value& v) {
    std::string s;
    if (!v.valid())
      s = "<invalid reflect.Value>";
    else
      gofmt::print_value(s, v);
    return s;
  }

  void at(const Node* n) { node_ = n; }

  // Called after every write to out_: the output bound (ExecOptions::max_output).
  void check_output() const {
    if (out_.size() > opt_.max_output)
      errorf("output exceeds " + std::to_string(opt_.max_output) + " bytes");
  }

  // One unit of the step bound (ExecOptions::max_steps): each node walked but lists, and each
  // iteration of a range, charged to `n`.
  void step(const Node* n) {
    if (opt_.max_steps != 0 && ++shared_.steps > opt_.max_steps) {
      at(n);
      errorf("execution exceeds " + std::to_string(opt_.max_steps) + " steps");
    }
  }

  Flow walk(const Value& dot, const Node* node) {
    at(node);
    if (node->type != NodeType::List) step(node);
    switch (node->type) {
      case NodeType::Action: {
        auto* a = static_cast<const ActionNode*>(node);
        Value val = eval_pipeline(dot, a->pipe.get());
        if (a->pipe->decl.empty()) print_value(node, val);
        return Flow::Normal;
      }
      case NodeType::Break:
        return Flow::Break;
      case NodeType::Continue:
        return Flow::Continue;
      case NodeType::Comment:
        return Flow::Normal;
      case NodeType::If:
      case NodeType::With:
        return walk_if_or_with(dot, static_cast<const BranchNode*>(node));
      case NodeType::List:
        for (const auto& n : static_cast<const ListNode*>(node)->nodes) {
          Flow f = walk(dot, n.get());
          if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
      case NodeType::Range:
        walk_range(dot, static_cast<const RangeNode*>(node));
        return Flow::Normal;
      case NodeType::Template:
        walk_template(dot, static_cast<const TemplateNode*>(node));
        return Flow::Normal;
      case NodeType::Text:
        out_ += static_cast<const TextNode*>(node)->text;
        check_output();
        return Flow::Normal;
      default:
        errorf("unknown node: " + node->string());
    }
  }

  Flow walk_if_or_with(const Value& dot, const BranchNode* n) {
    size_t mark = vars_.size();
    Value val = eval_pipeline(dot, n->pipe.get());
    Flow f = Flow::Normal;
    if (truth(val)) {
      f = walk(n->type == NodeType::With ? val : dot, n->list.get());
    } else if (n->else_list) {
      f = walk(dot, n->else_list.get());
    }
    vars_.resize(mark);
    return f;
  }

  void walk_range(const Value& dot, const RangeNode* r) {
    at(r);
    size_t outer = vars_.size();
    Value val = eval_pipeline(dot, r->pipe.get());
    size_t mark = vars_.size();
    const auto& decl = r->pipe->decl;
    // Returns false when the loop must stop ({{break}}).
    auto one = [&](const Value& index, const Value& elem) {
      step(r);
      if (!decl.empty()) {
        if (r->pipe->is_assign) {
          set_var(*decl[0], decl.size() > 1 ? index : elem);
        } else {
          vars_[mark - 1] = elem;
        }
      }
      if (decl.size() > 1) {
        if (r->pipe->is_assign)
          set_var(*decl[1], elem);
        else
          vars_[mark - 2] = index;
      }
      Flow f = walk(elem, r->list.get());
      vars_.resize(mark);
      return f != Flow::Break;
    };
    bool ran = false;
    switch (val.kind()) {
      case Kind::List: {
        const auto& items = val.as_list();
        for (size_t i = 0; i < items.size(); ++i) {
          ran = true;
          if (!one(Value::integer(static_cast<int64_t>(i)), items[i])) break;
        }
        break;
      }
      case Kind::Map:
        for (const auto& [k, v] : val.as_map()) {
          ran = true;
          if (!one(k, v)) break;
        }
        break;
      case Kind::Int:
      case Kind::Uint: {
        if (decl.size() > 1)
          errorf("can't use " + sprint_v(val) + " to iterate over more than one variable");
        if (val.kind() == Kind::Int) {
          for (int64_t i = 0; i < val.as_int(); ++i) {
            ran = true;
            if (!one(Value(), Value::integer(i, val.type()))) break;
          }
        } else {
          for (uint64_t i = 0; i < val.as_uint(); ++i) {
            ran = true;
            if (!one(Value(), Value::uinteger(i, val.type()))) break;
          }
        }
        break;
      }
      case Kind::Invalid:
        break;  // like an empty map
      default:
        errorf("range can't iterate over " + sprint_v(val));
    }
    if (!ran && r->else_list) walk(dot, r->else_list.get());
    vars_.resize(outer);
  }

  void walk_template(const Value& dot, const TemplateNode* t) {
    at(t);
    auto it = trees_.find(t->name);
    if (it == trees_.end() || !it->second->root)
      errorf("template " + quoted(t->name) + " not defined");
    if (depth_ >= opt_.max_depth)
      errorf("exceeded maximum template depth (" + std::to_string(opt_.max_depth) + ")");
    Value inner_dot = eval_pipeline(dot, t->pipe.get());
    State inner(trees_, it->second.get(), out_, ctx_, opt_, depth_ + 1, shared_);
    inner.run(inner_dot);
  }

  Value eval_pipeline(const Value& dot, const PipeNode* pipe) {
    if (pipe == nullptr) return Value();
    at(pipe);
    Value value;
    bool have = false;
    for (const auto& cmd : pipe->cmds) {
      value = eval_command(dot, cmd.get(), have ? &value : nullptr);
      have = true;
      // An interface holding nil is no value once a command is done with it.
      if (value.kind() == Kind::Nil) value = Value();
    }
    for (const auto& var : pipe->decl) {
      if (pipe->is_assign)
        set_var(*var, value);
      else
        vars_.push_back(value);
    }
    return value;
  }

  // Go's parser lets `$x = v` through for an undeclared $x; execution then fails.
  void set_var(const VariableNode& var, const Value& value) {
    if (var.slot < 0 || static_cast<size_t>(var.slot) >= vars_.size())
      errorf("undefined variable: " + var.ident[0]);
    vars_[var.slot] = value;
  }

  void not_a_function(Args args, const Value* final) {
    if (args.size() > 1 || final != nullptr)
      errorf("can't give argument to non-function " + args[0]->string());
  }

  Value eval_command(const Value& dot, const CommandNode* cmd, const Value* final) {
    const Node* first = cmd->args[0].get();
    Args args(cmd->args);
    switch (first->type) {
      case NodeType::Field:
        return eval_field_node(dot, static_cast<const FieldNode*>(first), args, final);
      case NodeType::Chain:
        return eval_chain_node(dot, static_cast<const ChainNode*>(first), args, final);
      case NodeType::Identifier:
        return eval_function(dot, static_cast<const IdentifierNode*>(first), cmd, args, final);
      case NodeType::Pipe:
        not_a_function(args, final);
        return eval_pipeline(dot, static_cast<const PipeNode*>(first));
      case NodeType::Variable:
        return eval_variable_node(dot, static_cast<const VariableNode*>(first), args, final);
      default:
        break;
    }
    at(first);
    not_a_function(args, final);
    switch (first->type) {
      case NodeType::Bool:
        return Value::boolean(static_cast<const BoolNode*>(first)->value);
      case NodeType::Dot:
        return dot;
      case NodeType::Nil:
        errorf("nil is not a command");
      case NodeType::Number:
        return ideal_constant(static_cast<const NumberNode*>(first));
      case NodeType::String:
        return static_cast<const StringNode*>(first)->value;
      default:
        errorf("can't evaluate command " + quoted(first->string()));
    }
  }

  Value ideal_constant(const NumberNode* c) {
    at(c);
    const std::string& text = c->text;
    bool hex_int = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
                   text.find_first_of("pP") == std::string::npos;
    bool rune_int = !text.empty() && text[0] == '\'';
    if (c->is_complex) return Value::complex(c->complex128);
    if (c->is_float && !hex_int && !rune_int && text.find_first_of(".eEpP") != std::string::npos)
      return Value::floating(c->float64);
    if (c->is_int) return Value::integer(c->int64);
    if (c->is_uint) errorf(text + " overflows int");
    return Value();
  }

  Value eval_field_node(const Value& dot, const FieldNode* field, Args args, const Value* final) {
    at(field);
    return eval_field_chain(dot, dot, field, field->ident, args, final);
  }

  Value eval_chain_node(const Value& dot, const ChainNode* chain, Args args, const Value* final) {
    at(chain);
    if (chain->field.empty()) errorf("internal error: no fields in evalChainNode");
    if (chain->node->type == NodeType::Nil)
      errorf("indirection through explicit nil in " + chain->string());
    Value pipe = eval_arg(dot, kUntyped, chain->node.get());
    return eval_field_chain(dot, pipe, chain, chain->field, args, final);
  }

  Value eval_variable_node(const Value& dot, const VariableNode* v, Args args, const Value* final) {
    at(v);
    if (v->slot < 0 || static_cast<size_t>(v->slot) >= vars_.size())
      errorf("undefined variable: " + v->ident[0]);
    const Value& value = vars_[v->slot];
    if (v->ident.size() == 1) {
      not_a_function(args, final);
      return value;
    }
    return eval_field_chain(dot, value, v, std::span<const std::string>(v->ident).subspan(1), args,
                            final);
  }

  Value eval_field_chain(const Value& dot, Value receiver, const Node* node,
                         std::span<const std::string> ident, Args args, const Value* final) {
    size_t n = ident.size();
    for (size_t i = 0; i + 1 < n; ++i)
      receiver = eval_field(dot, ident[i], node, {}, nullptr, receiver);
    return eval_field(dot, ident[n - 1], node, args, final, receiver);
  }

  Value eval_function(const Value& dot, const IdentifierNode* ident, const Node* cmd, Args args,
                      const Value* final) {
    at(ident);
    const Function* fn = ident->fn;
    if (fn == nullptr) errorf(quoted(ident->ident) + " is not a defined function");
    Callee callee{fn->params, fn->variadic, fn->builtin, fn->disabled};
    return eval_call(dot, callee, fn->call, nullptr, nullptr, cmd, ident->ident, args, final);
  }

  Value eval_field(const Value& dot, const std::string& name, const Node* node, Args args,
                   const Value* final, const Value& receiver) {
    if (!receiver.valid()) {
      if (opt_.missing_key == MissingKey::Error)
        errorf("nil data; no entry for key " + quoted(name));
      return Value();
    }
    const Type* typ = receiver.type();
    if (receiver.kind() == Kind::Nil) errorf("nil pointer evaluating interface {}." + name);
    if (receiver.kind() == Kind::Struct) {
      if (const Method* m = typ->method(name)) {
        Callee callee{m->params, m->variadic, Builtin::None, false};
        return eval_call(dot, callee, nullptr, m, &receiver, node, name, args, final);
      }
    }
    bool has_args = args.size() > 1 || final != nullptr;
    switch (receiver.kind()) {
      case Kind::Struct: {
        int idx = typ->field_index(name);
        if (idx < 0) break;
        // Go's rule: a field whose name does not start with a capital is unexported.
        if (name[0] >= 'a' && name[0] <= 'z')
          errorf(name + " is an unexported field of struct type " + typ->name);
        if (receiver.is_nil()) errorf("nil pointer evaluating " + typ->name + "." + name);
        if (has_args) errorf(name + " has arguments but cannot be invoked as function");
        return receiver.as_fields()[idx];
      }
      case Kind::Map: {
        const Type* key = typ->key;
        if (key != &types::string && key->kind != Kind::Interface) break;
        if (has_args) errorf(name + " is not a method but has arguments");
        if (const Value* v = receiver.map_find(std::string_view(name))) return *v;
        switch (opt_.missing_key) {
          case MissingKey::Default:
            return Value();
          case MissingKey::Zero:
            return zero_value(typ->elem);
          case MissingKey::Error:
            errorf("map has no entry for key " + quoted(name));
        }
        return Value();
      }
      default:
        break;
    }
    errorf("can't evaluate field " + name + " in type " + typ->name);
  }

  // Go's evalCall. Exactly one of `fn` (a function) and `method` (with `self`) is set.
  Value eval_call(const Value& dot, const Callee& callee, const NativeFunc& fn,
                  const Method* method, const Value* self, const Node* node,
                  const std::string& name, Args args, const Value* final) {
    Args given = args.empty() ? args : args.subspan(1);
    // A denied function behaves like consul-template's stub: func(...string) (string, error).
    static const std::vector<const Type*> kDeniedParams{&types::string};
    const auto& params = callee.disabled ? kDeniedParams : callee.params;
    bool variadic = callee.disabled ? true : callee.variadic;

    size_t num_in = given.size() + (final ? 1 : 0);
    size_t num_fixed = given.size();
    if (variadic) {
      num_fixed = params.size() - 1;
      if (num_in < num_fixed)
        errorf("wrong number of args for " + name + ": want at least " +
               std::to_string(params.size() - 1) + " got " + std::to_string(given.size()));
    } else if (num_in != params.size()) {
      errorf("wrong number of args for " + name + ": want " + std::to_string(params.size()) +
             " got " + std::to_string(num_in));
    }

    if (callee.builtin == Builtin::And || callee.builtin == Builtin::Or) {
      bool is_or = callee.builtin == Builtin::Or;
      Value v;
      for (const auto& arg : given) {
        v = eval_arg(dot, &types::reflect_value, arg.get());
        if (truth(v) == is_or) return v;
      }
      if (final) v = validate_type(*final, &types::reflect_value);
      return v;
    }

    std::vector<Value> argv;
    argv.reserve(num_in + 1);
    if (callee.builtin == Builtin::Call) argv.push_back(Value::string(given[0]->string()));
    size_t i = 0;
    for (; i < num_fixed && i < given.size(); ++i)
      argv.push_back(eval_arg(dot, param_type(params[i]), given[i].get()));
    if (variadic) {
      const Type* elem = param_type(params.back());
      for (; i < given.size(); ++i) argv.push_back(eval_arg(dot, elem, given[i].get()));
    }
    if (final) {
      const Type* t = param_type(params.back());
      if (variadic && num_in - 1 < num_fixed) t = param_type(params[num_in - 1]);
      argv.push_back(validate_type(*final, t));
    }
    if (callee.disabled) {
      at(node);
      errorf("error calling " + name + ": function is disabled");
    }
    try {
      if (method) return method->call(ctx_, *self, argv);
      return fn(ctx_, argv);
    } catch (const FuncError& e) {
      at(node);
      // The message may quote an argument; whoever reports it masks what came from a secret.
      if (ctx_.secret_in_error) {
        for (const Value& a : argv) report_secret_strings(a);
        if (method) report_secret_strings(*self);
      }
      errorf("error calling " + name + ": " + e.what());
    }
  }

  // Tells ctx_.secret_in_error the text of each secret-derived string in `v` (containers walked:
  // a secret split into a list is still a secret).
  void report_secret_strings(const Value& v) {
    switch (v.kind()) {
      case Kind::String:
        if (v.tainted()) ctx_.secret_in_error(v.as_string());
        return;
      case Kind::List:
        if (!v.is_nil())
          for (const Value& x : v.as_list()) report_secret_strings(x);
        return;
      case Kind::Map:
        if (!v.is_nil())
          for (const auto& [k, x] : v.as_map()) {
            report_secret_strings(k);
            report_secret_strings(x);
          }
        return;
      case Kind::Struct:
        if (!v.is_nil())
          for (const Value& x : v.as_fields()) report_secret_strings(x);
        return;
      default:
        return;
    }
  }

  Value validate_type(const Value& value, const Type* typ) {
    if (!value.valid()) {
      if (typ == kUntyped) return Value();
      if (can_be_nil(typ)) return zero_value(typ);
      errorf("invalid value; expected " + typ->name);
    }
    if (typ == &types::reflect_value || typ == kUntyped) return value;
    if (value.kind() == Kind::Nil) {
      if (typ->kind == Kind::Interface) return value;
      errorf("wrong type for value; expected " + typ->name + "; got interface {}");
    }
    if (!assignable(value.type(), typ))
      errorf("wrong type for value; expected " + typ->name + "; got " + value.type()->name);
    return value;
  }

  Value eval_arg(const Value& dot, const Type* typ, const Node* n) {
    at(n);
    switch (n->type) {
      case NodeType::Dot:
        return validate_type(dot, typ);
      case NodeType::Nil:
        if (can_be_nil(typ)) return zero_value(typ);
        errorf("cannot assign nil to " + (typ ? typ->name : std::string("<nil>")));
      case NodeType::Field:
        // Go passes the field node itself as the argument list (length 1: no arguments).
        return validate_type(
            eval_field_node(dot, static_cast<const FieldNode*>(n), one_arg_, nullptr), typ);
      case NodeType::Variable:
        return validate_type(
            eval_variable_node(dot, static_cast<const VariableNode*>(n), {}, nullptr), typ);
      case NodeType::Pipe:
        return validate_type(eval_pipeline(dot, static_cast<const PipeNode*>(n)), typ);
      case NodeType::Identifier: {
        auto* id = static_cast<const IdentifierNode*>(n);
        return validate_type(eval_function(dot, id, id, {}, nullptr), typ);
      }
      case NodeType::Chain:
        return validate_type(eval_chain_node(dot, static_cast<const ChainNode*>(n), {}, nullptr),
                             typ);
      default:
        break;
    }
    if (typ == &types::reflect_value || typ == &types::any) return eval_empty_interface(dot, n);
    if (typ != kUntyped) {
      auto* num = n->type == NodeType::Number ? static_cast<const NumberNode*>(n) : nullptr;
      switch (typ->kind) {
        case Kind::Bool:
          if (n->type == NodeType::Bool)
            return Value::boolean(static_cast<const BoolNode*>(n)->value);
          errorf("expected bool; found " + n->string());
        case Kind::Complex:
          if (num && num->is_complex) return Value::complex(num->complex128);
          errorf("expected complex; found " + n->string());
        case Kind::Float:
          if (num && num->is_float) return Value::floating(num->float64, typ);
          errorf("expected float; found " + n->string());
        case Kind::Int:
          if (num && num->is_int) return Value::integer(num->int64, typ);
          errorf("expected integer; found " + n->string());
        case Kind::String:
          if (n->type == NodeType::String) {
            auto* s = static_cast<const StringNode*>(n);
            return typ == &types::string ? s->value : Value::string(s->text, typ);
          }
          errorf("expected string; found " + n->string());
        case Kind::Uint:
          if (num && num->is_uint) return Value::uinteger(num->uint64, typ);
          errorf("expected unsigned integer; found " + n->string());
        default:
          break;
      }
    }
    errorf("can't handle " + n->string() + " for arg of type " +
           (typ ? typ->name : std::string("<nil>")));
  }

  Value eval_empty_interface(const Value& dot, const Node* n) {
    at(n);
    switch (n->type) {
      case NodeType::Bool:
        return Value::boolean(static_cast<const BoolNode*>(n)->value);
      case NodeType::Dot:
        return dot;
      case NodeType::Number:
        return ideal_constant(static_cast<const NumberNode*>(n));
      case NodeType::String:
        return static_cast<const StringNode*>(n)->value;
      default:
        errorf("can't handle assignment of " + n->string() + " to empty interface argument");
    }
  }

  void print_value(const Node* n, const Value& v) {
    print_value_unchecked(n, v);
    check_output();
  }

  void print_value_unchecked(const Node* n, const Value& v) {
    at(n);
    switch (v.kind()) {
      case Kind::Invalid:
        out_ += "<no value>";
        return;
      case Kind::String:
        if (v.tainted() && ctx_.secret_seen) ctx_.secret_seen(v.as_string());
        out_ += v.as_string();
        return;
      case Kind::Int: {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
        out_.append(buf, r.ptr);
        return;
      }
      case Kind::Bool:
        out_ += v.as_bool() ? "true" : "false";
        return;
      case Kind::Func:
        errorf("can't print " + n->string() + " of type " + v.type()->name);
      default:
        if (v.tainted() && ctx_.secret_seen) {
          std::string s;
          gofmt::print_value(s, v);
          ctx_.secret_seen(s);
          out_ += s;
          return;
        }
        gofmt::print_value(out_, v);
    }
  }

  const TreeSet& trees_;
  const Tree* tmpl_;
  std::string& out_;
  CallContext& ctx_;
  const ExecOptions& opt_;
  int depth_;
  Shared& shared_;
  std::vector<Value> vars_;
  const Node* node_ = nullptr;
  // A one-element argument list for field evaluation from eval_arg (Go's []Node{n}).
  static inline const NodePtr one_arg_storage_[1] = {};
  Args one_arg_{one_arg_storage_, 1};
};

}  // namespace

Value zero_value(const Type* t) {
  if (t == nullptr || t == &types::reflect_value) return Value();
  switch (t->kind) {
    case Kind::Interface:
      return Value::nil();
    case Kind::Bool:
      return Value::boolean(false);
    case Kind::Int:
      return Value::integer(0, t);
    case Kind::Uint:
      return Value::uinteger(0, t);
    case Kind::Float:
      return Value::floating(0, t);
    case Kind::Complex:
      return Value::complex({0, 0});
    case Kind::String:
      return Value::string("", t);
    case Kind::List:
    case Kind::Map:
    case Kind::Func:
      return Value::typed_nil(t);
    case Kind::Struct:
      if (t->pointer) return Value::typed_nil(t);
      return Value::structure(t, std::vector<Value>(t->fields.size()));
    default:
      return Value();
  }
}

void execute(const TreeSet& trees, const std::string& name, const Value& dot, std::string& out,
             CallContext& ctx, const ExecOptions& options) {
  auto it = trees.find(name);
  if (it == trees.end() || !it->second->root)
    throw ExecError("template: " + name + ": " + "\"" + name +
                    "\" is an incomplete or empty template");
  Shared shared;
  // executeTemplate runs another template of this set; it is valid only during this call.
  auto saved = std::move(ctx.execute_template);
  ctx.execute_template = [&trees, &ctx, &options, &name, &shared](const std::string& other,
                                                                  const Value& other_dot) {
    auto found = trees.find(other);
    if (found == trees.end() || !found->second->root)
      throw FuncError("template: no template \"" + other + "\" associated with template \"" + name +
                      "\"");
    // Nested executions start a fresh Go state; bound them so recursion ends in an error.
    if (ctx.nested_executions >= 1000)
      throw FuncError("exceeded maximum template depth (" + std::to_string(options.max_depth) +
                      ")");
    std::string result;
    ++ctx.nested_executions;
    try {
      State inner(trees, found->second.get(), result, ctx, options, 0, shared);
      inner.run(other_dot);
    } catch (const ExecError& e) {
      --ctx.nested_executions;
      throw FuncError(e.what());
    }
    --ctx.nested_executions;
    return result;
  };
  struct Restore {
    CallContext& ctx;
    std::function<std::string(const std::string&, const Value&)> saved;
    ~Restore() { ctx.execute_template = std::move(saved); }
  } restore{ctx, std::move(saved)};
  State state(trees, it->second.get(), out, ctx, options, 0, shared);
  state.run(dot);
}

}  // namespace templet
